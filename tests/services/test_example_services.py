"""The example services (examples/services/): read with services/ by the sandbox, checked like any team's
files, and deployed by nothing. Service folders read together: names unique across them, a team of any of
them. The expected values are literals from the example's files and the documented rules."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from config.monitoring import Collector
from observability.model.load import load, load_default, load_with_examples
from observability.render import Artifacts, render
from observability.spec.problems import SpecError

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLES = REPOSITORY / "examples"


def test_the_sandbox_reads_both_services_of_two_teams():
    services = load_with_examples()
    assert [service.name for service in services.services] == ["orders-api", "inventory-api"]
    assert [team.name for team in services.teams] == ["orders", "warehouse"]
    inventory = services.service("inventory-api")
    assert (inventory.team, inventory.namespace, inventory.slo_period) == ("warehouse", "warehouse", "28d")
    (slo,) = inventory.slos
    assert (slo.id, slo.objective, slo.alert_name) == (
        "inventory-api-availability",
        Decimal("99.5"),
        "InventoryApiAvailabilityBudgetBurn",
    )


def test_nothing_deployed_carries_the_example():
    """What a deployment renders (services/ alone): no job, rules, team topics or dashboard of it."""
    artifacts = render(services=load_default(), runbook_base_url="https://runbooks.example.com")
    assert artifacts.teams == ("orders",)
    assert "inventory-api" not in {job.name for job in artifacts.scrape_jobs}
    assert set(artifacts.rule_files) == {"slos-orders", "platform-alerts"}
    uids = {model["uid"] for folder in artifacts.dashboards for model in folder.dashboards}
    assert "svc-inventory-api" not in uids
    assert "svc-orders-api" in uids


def test_the_sandbox_renders_the_example_through_the_one_entry_point():
    artifacts = render(services=load_with_examples(), runbook_base_url="https://runbooks.example.com")
    assert artifacts.teams == ("orders", "warehouse")
    (job,) = [job for job in artifacts.scrape_jobs if job.name == "inventory-api"]
    assert (job.targets.namespace, dict(job.targets.pod_labels or {}), job.targets.port) == (
        "warehouse",
        {"app.kubernetes.io/name": "inventory-api"},
        "http",
    )
    assert job.limits.sample_limit == 200
    alerts = [
        rule
        for group in artifacts.rule_files["slos-warehouse"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert {(rule["alert"], rule["labels"]["team"]) for rule in alerts} == {
        ("InventoryApiAvailabilityBudgetBurn", "warehouse")
    }


def test_the_example_deployment_runs_the_pods_its_service_file_selects():
    """The team's Deployment (what the sandbox discovers): valid for Kubernetes 1.35, in the service's
    namespace, its pods carrying the selector's labels and the metrics port by name and number."""
    deployment = yaml.safe_load((EXAMPLES / "inventory-api/deployment.yaml").read_text())
    kubernetes_validate.validate(deployment, "1.35.0", strict=True)
    service = load_with_examples().service("inventory-api")
    template = deployment["spec"]["template"]
    assert deployment["metadata"]["namespace"] == service.namespace
    assert dict(service.selector).items() <= template["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"] == dict(service.selector)
    ports = [port for container in template["spec"]["containers"] for port in container.get("ports", [])]
    assert {(port["name"], port["containerPort"]) for port in ports} == {
        (service.metrics_port, service.metrics_port_number)
    }


# --- service folders read together -------------------------------------------------------------------
@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of services/ and examples/services/."""
    services, examples = tmp_path / "services", tmp_path / "examples"
    shutil.copytree(REPOSITORY / "services", services)
    shutil.copytree(EXAMPLES / "services", examples)
    return services, examples


def problems(*roots: Path) -> list[str]:
    with pytest.raises(SpecError) as error:
        load(*roots)
    text = str(error.value)
    for root in roots:  # paths outside the repository are shown whole: name the copies by their folder
        text = text.replace(f"{root}/", f"{root.name}/")
    return text.splitlines()


def edit(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_service_name_taken_in_another_folder(roots):
    services, examples = roots
    shutil.copytree(services / "orders-api", examples / "orders-api")
    edit(examples / "orders-api/service.yaml", lambda d: d.update(team="warehouse"))
    edit(examples / "orders-api/service.yaml", lambda d: d["workload"].update(namespace="elsewhere"))
    assert problems(services, examples) == [
        "examples/orders-api/service.yaml: name: must be unique across the services folders ('orders-api' is"
        " also services/orders-api)"
    ]


def test_a_team_listed_in_two_folders(roots):
    services, examples = roots
    edit(examples / "teams.yaml", lambda d: d["teams"].append({"name": "orders", "description": "Again."}))
    assert problems(services, examples) == [
        "examples/teams.yaml: teams[1].name: must be unique across the services folders ('orders' is also in"
        " services/teams.yaml)"
    ]


def test_a_service_may_belong_to_a_team_of_another_folder(roots):
    services, examples = roots
    edit(examples / "inventory-api/service.yaml", lambda d: d.update(team="orders"))
    assert load(services, examples).service("inventory-api").team == "orders"


def test_an_unknown_team_names_every_teams_file(roots):
    services, examples = roots
    edit(examples / "inventory-api/service.yaml", lambda d: d.update(team="shipping"))
    assert problems(services, examples) == [
        "examples/inventory-api/service.yaml: team: must be a team of examples/teams.yaml or "
        "services/teams.yaml: ['orders', 'warehouse'] (got 'shipping')"
    ]


def test_the_examples_alone_need_their_team_file(roots):
    """Each folder is complete: examples/services/ alone loads (its team is its own)."""
    _, examples = roots
    assert [service.name for service in load(examples).services] == ["inventory-api"]


RUNBOOKS = "https://runbooks.example.com"
# The alerts about our own agents (their absence, their shards, their remote write).
AGENT_ALERTS = {"PrometheusAgentAbsent", "PrometheusAgentShardDown", "PrometheusRemoteWriteBehind"}


def _alert_names(rules: Mapping[str, Any]) -> set[str]:
    return {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


def _datasource_types(artifacts: Artifacts) -> set[str]:
    return {
        panel["datasource"]["type"]
        for folder in artifacts.dashboards
        for model in folder.dashboards
        for panel in model["panels"]
        if "datasource" in panel
    }


def test_the_entry_point_renders_for_the_collector_it_is_given():
    """Agents (the default): the agent's alerts and its dashboard. AMP's managed collector: neither, and the
    scraper's absence alert instead (docs/collector.md)."""
    services = load_default()
    agent = render(services=services, runbook_base_url=RUNBOOKS)
    managed = render(services=services, runbook_base_url=RUNBOOKS, collector=Collector.MANAGED)
    agent_alerts = _alert_names(agent.rule_files["platform-alerts"])
    managed_alerts = _alert_names(managed.rule_files["platform-alerts"])
    assert agent_alerts >= AGENT_ALERTS
    assert "ManagedCollectorAbsent" not in agent_alerts
    assert "ManagedCollectorAbsent" in managed_alerts
    assert not managed_alerts & AGENT_ALERTS

    def platform_uids(artifacts: Artifacts) -> set[str]:
        (platform, *_) = artifacts.dashboards
        return {str(model["uid"]) for model in platform.dashboards}

    assert "eks-obs-agent" in platform_uids(agent)
    assert "eks-obs-agent" not in platform_uids(managed)


def test_the_entry_point_carries_the_services_and_the_grafana_version():
    services = load_with_examples()
    artifacts = render(services=services, runbook_base_url=RUNBOOKS, grafana_version="13.0")
    assert [service.name for service in artifacts.services] == ["orders-api", "inventory-api"]
    # Grafana 13 removed SigV4 from the core Prometheus data source: panels read the Amazon plugin's type.
    assert _datasource_types(artifacts) == {"grafana-amazonprometheus-datasource"}
    assert _datasource_types(render(services=services, runbook_base_url=RUNBOOKS)) == {"prometheus"}


def test_every_teams_problem_of_both_folders_is_reported(roots):
    services, examples = roots
    edit(services / "teams.yaml", lambda d: d["teams"].extend([{"name": "Bad"}, {"name": "billing"}]))
    edit(
        examples / "teams.yaml",
        lambda d: d["teams"].extend(["shipping", {"name": "orders"}, {"name": "billing"}]),
    )
    assert problems(services, examples) == [
        "examples/teams.yaml: teams[1].name: must be lower-case letters, digits and '-' (got None)",
        "examples/teams.yaml: teams[2].name: must be unique across the services folders ('orders' is also in"
        " services/teams.yaml)",
        "examples/teams.yaml: teams[3].name: must be unique across the services folders ('billing' is also in"
        " services/teams.yaml)",
        "services/teams.yaml: teams[1].name: must be lower-case letters, digits and '-' (got 'Bad')",
    ]


def test_the_teams_of_both_folders_and_every_periods_windows_are_loaded(roots):
    services, examples = roots
    loaded = load(services, examples)
    assert [(team.name, team.description) for team in loaded.teams] == [
        ("orders", "Owns the orders API and its database."),
        ("warehouse", "Owns the inventory API (an example service that the sandbox runs)."),
    ]
    assert sorted(loaded.windows) == ["28d", "30d", "7d"]
    assert loaded.windows_of(loaded.service("inventory-api")) is loaded.windows["28d"]


def test_a_service_without_an_slo_file_has_no_slos(roots):
    _, examples = roots
    (examples / "inventory-api/slos.yaml").unlink()
    assert load(examples).service("inventory-api").slos == ()


def test_the_problems_of_a_folder_after_a_broken_one_are_reported_too(roots):
    services, _ = roots
    edit(services / "orders-api/service.yaml", lambda d: d.update(team="nobody"))
    shutil.copytree(services / "orders-api", services / "a-api")
    edit(services / "a-api/service.yaml", lambda d: d.update(name="a-api"))
    assert problems(services) == [
        "services/a-api/service.yaml: team: must be a team of services/teams.yaml: ['orders'] (got 'nobody')",
        "services/a-api/slos.yaml: service: must be 'a-api', the service's name (got 'orders-api')",
        "services/orders-api/service.yaml: team: must be a team of services/teams.yaml: ['orders'] "
        "(got 'nobody')",
    ]


def test_a_service_after_one_whose_name_is_taken_is_still_read(roots):
    services, examples = roots
    shutil.copytree(services / "orders-api", examples / "orders-api")
    edit(examples / "orders-api/service.yaml", lambda d: d.update(team="warehouse"))
    edit(examples / "orders-api/service.yaml", lambda d: d["workload"].update(namespace="elsewhere"))
    shutil.copytree(examples / "inventory-api", examples / "stock-api")
    edit(examples / "stock-api/service.yaml", lambda d: d.update(name="stock-api", team="shipping"))
    assert problems(services, examples) == [
        "examples/orders-api/service.yaml: name: must be unique across the services folders ('orders-api' is"
        " also services/orders-api)",
        "examples/stock-api/service.yaml: team: must be a team of examples/teams.yaml or "
        "services/teams.yaml: ['orders', 'warehouse'] (got 'shipping')",
        "examples/stock-api/slos.yaml: service: must be 'stock-api', the service's name "
        "(got 'inventory-api')",
    ]


def test_an_alert_name_is_unique_across_services_after_an_slo_without_alerts(roots):
    services, examples = roots

    def alerts_off_then_taken(document):
        document["slos"][0]["alerting"] = {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}}
        document["slos"][1]["alerting"]["name"] = "InventoryApiAvailabilityBudgetBurn"

    edit(services / "orders-api/slos.yaml", alerts_off_then_taken)
    assert problems(services, examples) == [
        "examples/inventory-api/slos.yaml: slos[0].alerting.name: must be unique across services "
        "('InventoryApiAvailabilityBudgetBurn' is also orders-api's)"
    ]
