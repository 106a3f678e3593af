"""One generated dashboard per service, in the service's own folder: uids from the service's name, its SLO
panels selecting its `sloth_id`s, its alerts by name and `sloth_id`, RED only where the service file
declares it. Expected values are literals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from observability.dashboards import folders
from observability.dashboards.service import dashboard_uid, folder_uid
from observability.model.load import load, load_default
from observability.model.service import Service
from observability.render import render
from tests.dashboards.queries import parsable

REPOSITORY = Path(__file__).resolve().parents[2]
SCOPE = 'cluster=~"$cluster", environment=~"$environment"'


def _service(name: str) -> Service:
    return Service(
        name=name,
        team="t",
        description="",
        namespace="n",
        selector={"app": name},
        metrics_port="http",
        metrics_port_number=8080,
        metrics_path="/metrics",
        keep=("x",),
        series_budget=1,
        slo_period="30d",
    )


def _panels(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Row title -> the panels under it."""
    rows: dict[str, list[dict[str, Any]]] = {}
    current = ""
    for panel in model["panels"]:
        if panel["type"] == "row":
            current = panel["title"]
            rows[current] = []
        else:
            rows[current].append(panel)
    return rows


def _exprs(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel["targets"]]


def test_the_orders_api_gets_its_own_folder_and_dashboard():
    platform, *services = render(
        services=load_default(), runbook_base_url="https://example.invalid"
    ).dashboards
    assert (platform.uid, platform.title) == ("eks-observability", "EKS observability")
    assert "svc-orders-api" not in [model["uid"] for model in platform.dashboards]
    assert [(f.uid, f.title, [m["uid"] for m in f.dashboards]) for f in services] == [
        ("svc-orders-api-folder", "Service: orders-api", ["svc-orders-api"])
    ]
    (model,) = services[0].dashboards
    assert model["title"] == "orders / orders-api"
    assert model["tags"] == ["eks-observability", "generated", "team:orders", "service:orders-api"]


def test_each_slo_has_its_budget_burn_rates_windows_and_alerts():
    (model,) = folders(load_default())[1].dashboards
    rows = _panels(model)
    assert list(rows) == [
        "SLO availability: 99.9% over 30d",
        "SLO latency: 99% over 30d",
        "Requests (RED)",
    ]
    availability = {panel["title"]: _exprs(panel) for panel in rows["SLO availability: 99.9% over 30d"]}
    this = f'{SCOPE}, sloth_id="orders-api-availability"'
    assert availability["Error budget remaining"] == [f"slo:period_error_budget_remaining:ratio{{{this}}}"]
    assert availability["Burn rate over 30d"] == [f"slo:period_burn_rate:ratio{{{this}}}"]
    assert availability["Burn rate now (5m)"] == [f"slo:current_burn_rate:ratio{{{this}}}"]
    assert availability["Burn-rate alerts firing"] == [
        f'count(ALERTS{{{SCOPE}, alertstate="firing", alertname="OrdersApiAvailabilityBudgetBurn", '
        'sloth_id="orders-api-availability"}) or vector(0)'
    ]
    # Every window the 30d alerts read (observability/spec/windows/30d.yaml), the period, and the budget.
    assert availability["Error ratio by window"] == [
        *(
            f"slo:sli_error:ratio_rate{w}{{{this}}}"
            for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
        ),
        f"slo:error_budget:ratio{{{this}}}",
    ]
    assert availability["Burn-rate alerts by severity and windows"] == [
        "sum by (severity, long_window, short_window, alertstate) (ALERTS{"
        f'{SCOPE}, alertname="OrdersApiAvailabilityBudgetBurn", sloth_id="orders-api-availability"}})'
    ]


def test_red_reads_the_declared_counter_matcher_and_histogram_of_the_services_job():
    (model,) = folders(load_default())[1].dashboards
    red = {panel["title"]: _exprs(panel) for panel in _panels(model)["Requests (RED)"]}
    job = f'{SCOPE}, job="orders-api"'
    total = f"sum(rate(http_requests_total{{{job}}}[$__rate_interval]))"
    failed = f'sum(rate(http_requests_total{{{job}, status=~"5.."}}[$__rate_interval]))'
    assert red["Requests"] == [total, failed]
    assert red["Error share"] == [f"{failed} / {total}"]
    assert red["Duration"] == [
        f"histogram_quantile({q}, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{job}}}[$__rate_interval])))"
        for q in ("0.5", "0.9", "0.99")
    ]


def test_uids_follow_the_name_within_grafanas_40_characters():
    assert dashboard_uid(_service("payments")) == "svc-payments"
    assert folder_uid(_service("payments")) == "svc-payments-folder"
    long = "a-rather-long-service-name-for-the-payments-team"  # 48 characters
    # Cut short (no trailing '-') and suffixed with the first 8 hex digits of the name's SHA-256
    # (`printf %s <name> | sha256sum`): stable, and distinct for names that share their beginning.
    assert dashboard_uid(_service(long)) == "svc-a-rather-long-service-name-09108695"
    assert folder_uid(_service(long)) == "svc-a-rather-long-servic-09108695-folder"
    assert len(dashboard_uid(_service(long))) <= 40
    assert len(folder_uid(_service(long))) <= 40
    other = long.replace("payments", "billings")
    assert dashboard_uid(_service(other)) != dashboard_uid(_service(long))
    # Exactly 40 characters is within Grafana's limit: kept whole; one more is cut.
    fits = "p" * 36
    assert dashboard_uid(_service(fits)) == f"svc-{fits}"
    assert dashboard_uid(_service(fits + "p")) != f"svc-{fits}p"
    assert len(dashboard_uid(_service(fits + "p"))) == 40


@pytest.fixture
def services(tmp_path: Path) -> Path:
    root = tmp_path / "services"
    shutil.copytree(REPOSITORY / "services", root)
    return root


def test_a_service_without_red_or_alerts_gets_only_its_slo_panels(services: Path):
    """A second service declaring no dashboards section, with both alerts of its SLO off."""
    folder = services / "payments"
    folder.mkdir()
    (folder / "service.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "services/v1",
                "name": "payments",
                "team": "orders",
                "workload": {"namespace": "payments", "selector": {"app.kubernetes.io/name": "payments"}},
                "metrics": {
                    "port": "http",
                    "port_number": 8080,
                    "keep": ["payments_total"],
                    "series_budget": 100,
                },
                "slo_period": "7d",
            }
        )
    )
    (folder / "slos.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "prometheus/v1",
                "service": "payments",
                "slos": [
                    {
                        "name": "availability",
                        "objective": 99.5,
                        "sli": {
                            "events": {
                                "error_query": 'sum(rate(payments_total{code=~"5.."}[{{.window}}]))',
                                "total_query": "sum(rate(payments_total[{{.window}}]))",
                            }
                        },
                        "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
                    }
                ],
            }
        )
    )
    found = {f.uid: f for f in folders(load(services))}
    (model,) = found["svc-payments-folder"].dashboards
    rows = _panels(model)
    assert list(rows) == ["SLO availability: 99.5% over 7d"]
    assert [panel["title"] for panel in rows["SLO availability: 99.5% over 7d"]] == [
        "Error budget remaining",
        "Burn rate over 1w",
        "Burn rate now (5m)",
        "Error ratio by window",
    ]
    exprs = [parsable(expr) for panels in rows.values() for panel in panels for expr in _exprs(panel)]
    assert exprs
    assert not any("ALERTS" in expr for expr in exprs)


def test_a_shortened_uid_meeting_another_services_uid_is_refused(services: Path):
    """A 48-character name's dashboard uid is cut to `svc-<27 characters>-<digest>`: a service literally
    named like that would take the same uid, and two dashboards would overwrite each other."""
    long = "a-rather-long-service-name-for-the-payments-team"
    for index, name in enumerate((long, "a-rather-long-service-name-09108695")):
        folder = services / name
        folder.mkdir()
        (folder / "service.yaml").write_text(
            yaml.safe_dump(
                {
                    "version": "services/v1",
                    "name": name,
                    "team": "orders",
                    "workload": {"namespace": f"ns{index}", "selector": {"app": name}},
                    "metrics": {
                        "port": "http",
                        "port_number": 8080,
                        "keep": ["x_total"],
                        "series_budget": 100,
                    },
                }
            )
        )
    with pytest.raises(
        ValueError, match=r"Grafana uids used twice: \['svc-a-rather-long-service-name-09108695'\]"
    ):
        folders(load(services))


def test_make_render_writes_every_dashboard_as_provisioned(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts" / "render.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = {path.name for path in (tmp_path / "dashboards").glob("*.json")}
    assert written == {
        "eks-obs-cluster.json",
        "eks-obs-nodes.json",
        "eks-obs-workloads.json",
        "eks-obs-webapp.json",
        "eks-obs-postgres.json",
        "eks-obs-agent.json",
        "svc-orders-api.json",
    }
    (model,) = folders(load_default())[1].dashboards
    assert json.loads((tmp_path / "dashboards" / "svc-orders-api.json").read_text()) == model


def test_each_panel_shows_its_value_in_its_unit_with_its_legend():
    """Shares as percentages (0.999 reads 99.9 %), burn rates and alert counts as plain numbers, requests per
    second, durations in seconds; each series is named by its window, quantile or kind."""
    (model,) = folders(load_default())[1].dashboards
    shown = {
        (row, panel["title"]): (
            panel["fieldConfig"]["defaults"]["unit"],
            [target["legendFormat"] for target in panel["targets"]],
        )
        for row, panels in _panels(model).items()
        for panel in panels
    }
    availability = "SLO availability: 99.9% over 30d"
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert shown[(availability, "Error budget remaining")] == ("percentunit", ["__auto"])
    assert shown[(availability, "Burn rate over 30d")] == ("short", ["__auto"])
    assert shown[(availability, "Burn rate now (5m)")] == ("short", ["__auto"])
    assert shown[(availability, "Burn-rate alerts firing")] == ("short", ["__auto"])
    assert shown[(availability, "Error ratio by window")] == ("percentunit", [*windows, "error budget"])
    assert shown[(availability, "Burn-rate alerts by severity and windows")] == (
        "short",
        ["{{severity}} {{long_window}}/{{short_window}} {{alertstate}}"],
    )
    assert shown[("Requests (RED)", "Requests")] == ("reqps", ["all", "failed"])
    assert shown[("Requests (RED)", "Error share")] == ("percentunit", ["failed"])
    assert shown[("Requests (RED)", "Duration")] == ("s", ["p50", "p90", "p99"])
