"""The SLO rules of many services split into AMP rule groups namespaces within AMP's quotas: generated
services (harness/services.py) at 1, 10 and 100, teams of their own or one shared team, the same input
always giving the same namespaces, and a service too big for any namespace failing with its file named.

The limits are read here from observability/spec/amp-quotas.yaml itself, and each rules file is measured
as the YAML the namespace's Data holds."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.services import generate
from observability.model.load import load
from observability.model.quotas import load_quotas
from observability.render.rules import rule_files
from observability.spec.problems import SpecError

REPOSITORY = Path(__file__).resolve().parents[2]
QUOTAS = yaml.safe_load((REPOSITORY / "observability/spec/amp-quotas.yaml").read_text())["quotas"]
MAX_BYTES = QUOTAS["rule_namespace_bytes"]["value"]
MAX_NAME_BYTES = QUOTAS["namespace_and_group_name_bytes"]["value"]
RUNBOOKS = "https://runbooks.example.com/"
# AWS::APS::RuleGroupsNamespace Name: 1-64 characters of this set, starting alphanumeric.
NAMESPACE_NAME = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")


def data_bytes(document: dict[str, Any]) -> int:
    """The rules file as the namespace's Data: YAML, keys in order, one line per expression."""
    return len(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1_000_000).encode())


def group_names(document: dict[str, Any]) -> list[str]:
    return [group["name"] for group in document["groups"]]


def slo_groups(*services: int) -> list[str]:
    return [f"slo-svc-{i:03d}-{slo}" for i in services for slo in ("availability", "latency")]


@pytest.mark.parametrize("count", [1, 10, 100])
def test_generated_services_load_as_any_team_s_files(tmp_path: Path, count: int) -> None:
    services = load(generate(tmp_path / "services", count))
    assert len(services.services) == count
    last = services.service(f"svc-{count - 1:03d}")
    assert (last.team, last.namespace, dict(last.selector)) == (
        f"team-{count - 1:03d}",
        f"ns-{count - 1:03d}",
        {"app.kubernetes.io/name": f"svc-{count - 1:03d}"},
    )
    assert [slo.alert_name for slo in last.slos] == [
        f"Svc{count - 1:03d}AvailabilityBudgetBurn",
        f"Svc{count - 1:03d}LatencyBudgetBurn",
    ]


@pytest.mark.parametrize("count", [1, 10, 100])
def test_each_team_gets_its_namespace_within_the_quotas(tmp_path: Path, count: int) -> None:
    files = rule_files(load(generate(tmp_path / "services", count)), runbook_base_url=RUNBOOKS)
    assert sorted(files) == ["platform-alerts", *(f"slos-team-{i:03d}" for i in range(count))]
    for namespace, document in files.items():
        assert NAMESPACE_NAME.match(namespace)
        assert data_bytes(document) <= MAX_BYTES, namespace
        for name in group_names(document):
            assert len(namespace.encode()) + len(name.encode()) <= MAX_NAME_BYTES
    assert group_names(files[f"slos-team-{count - 1:03d}"]) == slo_groups(count - 1)


def test_a_team_s_services_fill_its_namespaces_in_name_order(tmp_path: Path) -> None:
    # 30 services of ~23.5 KB of rules each; a namespace is filled to 3/4 of 256 KiB: 8 services.
    files = rule_files(
        load(generate(tmp_path / "services", 30, shared_team="payments")), runbook_base_url=RUNBOOKS
    )
    assert sorted(files) == [
        "platform-alerts",
        "slos-payments",
        "slos-payments-2",
        "slos-payments-3",
        "slos-payments-4",
    ]
    assert group_names(files["slos-payments"]) == slo_groups(*range(8))
    assert group_names(files["slos-payments-2"]) == slo_groups(*range(8, 16))
    assert group_names(files["slos-payments-4"]) == slo_groups(*range(24, 30))
    assert all(data_bytes(document) <= MAX_BYTES for document in files.values())


def test_the_same_services_give_the_same_namespaces_and_a_new_one_changes_none(tmp_path: Path) -> None:
    first = rule_files(load(generate(tmp_path / "a", 10)), runbook_base_url=RUNBOOKS)
    again = rule_files(load(generate(tmp_path / "b", 10)), runbook_base_url=RUNBOOKS)
    more = rule_files(load(generate(tmp_path / "c", 11)), runbook_base_url=RUNBOOKS)
    assert yaml.safe_dump(first) == yaml.safe_dump(again)
    assert {name: more[name] for name in first} == first
    assert sorted(set(more) - set(first)) == ["slos-team-010"]


def test_a_new_service_of_a_full_team_opens_its_next_namespace_without_renames(tmp_path: Path) -> None:
    eight = rule_files(load(generate(tmp_path / "a", 8, shared_team="payments")), runbook_base_url=RUNBOOKS)
    nine = rule_files(load(generate(tmp_path / "b", 9, shared_team="payments")), runbook_base_url=RUNBOOKS)
    assert nine["slos-payments"] == eight["slos-payments"]
    assert group_names(nine["slos-payments-2"]) == slo_groups(8)


def test_a_service_too_big_for_one_namespace_fails_naming_its_slo_file(tmp_path: Path) -> None:
    root = generate(tmp_path / "services", 2, slos_per_service=30)
    services = load(root)  # the files themselves are valid
    with pytest.raises(SpecError) as error:
        rule_files(services, runbook_base_url=RUNBOOKS)
    lines = str(error.value).splitlines()
    assert len(lines) == 2  # both services, at once
    assert lines[0].startswith(f"{root}/svc-000/slos.yaml: slos: the rules of svc-000's 30 SLO(s) render to ")
    assert f"over the {MAX_BYTES:,}-byte limit of one rule groups namespace" in lines[0]
    assert lines[1].startswith(f"{root}/svc-001/slos.yaml: slos: ")


def test_make_render_reports_the_too_big_service_without_a_traceback(tmp_path: Path) -> None:
    root = generate(tmp_path / "services", 1, slos_per_service=30)
    result = subprocess.run(
        [sys.executable, "scripts/render.py", "--services", str(root), "--out", str(tmp_path / "dist")],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == "The service files break 1 rule(s):"
    assert result.stderr.splitlines()[1].startswith(f"{root}/svc-000/slos.yaml: slos: the rules of svc-000")
    assert not (tmp_path / "dist").exists()  # nothing half-written


def test_check_services_reports_the_too_big_service(tmp_path: Path) -> None:
    root = generate(tmp_path / "services", 1, slos_per_service=30)
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py", str(root)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1].startswith(f"{root}/svc-000/slos.yaml: slos: the rules of svc-000")


def test_a_service_without_slos_gets_no_namespace_and_the_next_services_still_do(tmp_path: Path) -> None:
    root = generate(tmp_path / "services", 3)
    (root / "svc-000" / "slos.yaml").unlink()  # svc-000 sorts first: the services after it still count
    files = rule_files(load(root), runbook_base_url=RUNBOOKS)
    assert sorted(files) == ["platform-alerts", "slos-team-001", "slos-team-002"]


def test_a_one_slo_service_over_the_namespace_limit_is_named_by_its_file(tmp_path: Path) -> None:
    root = generate(tmp_path / "services", 1, slos_per_service=1)
    services = load(root)
    (slo,) = services.service("svc-000").slos
    quotas = load_quotas()
    tiny = dataclasses.replace(
        quotas, rule_namespace_bytes=dataclasses.replace(quotas.rule_namespace_bytes, value=2_000)
    )
    with pytest.raises(SpecError) as error:
        rule_files(services, runbook_base_url=RUNBOOKS, quotas=tiny)
    assert any(
        line.startswith(f"{root}/svc-000/slos.yaml: slos: the rules of svc-000's 1 SLO(s) render to ")
        and "over the 2,000-byte limit of one rule groups namespace" in line
        for line in str(error.value).splitlines()
    ), str(error.value)
    assert slo.file == str(root / "svc-000" / "slos.yaml")


def test_a_team_name_too_long_for_its_namespace_is_named_in_teams_yaml(tmp_path: Path) -> None:
    limit = QUOTAS["namespace_name_characters"]["value"]  # 64
    longest = "t" * (limit - len("slos-"))
    files = rule_files(load(generate(tmp_path / "fits", 1, shared_team=longest)), runbook_base_url=RUNBOOKS)
    assert f"slos-{longest}" in files  # exactly 64 characters: accepted
    root = generate(tmp_path / "over", 1, shared_team=longest + "t")
    with pytest.raises(SpecError) as error:
        rule_files(load(root), runbook_base_url=RUNBOOKS)
    assert str(error.value).splitlines() == [
        f"{root}/teams.yaml: teams ({longest}t): name must be short enough to name its rule groups namespace "
        f"'slos-{longest}t' in {limit} characters"
    ]


def test_the_platform_alerts_are_the_agents_unless_the_managed_collector_scrapes(tmp_path: Path) -> None:
    services = load(generate(tmp_path / "services", 1))

    def alerts(files: dict[str, Any]) -> set[str]:
        return {
            rule["alert"]
            for group in files["platform-alerts"]["groups"]
            for rule in group["rules"]
            if "alert" in rule
        }

    agents = alerts(rule_files(services, runbook_base_url=RUNBOOKS))
    managed = alerts(rule_files(services, runbook_base_url=RUNBOOKS, managed_collector=True))
    assert {"PrometheusAgentAbsent", "PrometheusAgentShardDown"} <= agents
    assert "ManagedCollectorAbsent" not in agents
    assert "ManagedCollectorAbsent" in managed
    assert "PrometheusAgentAbsent" not in managed


def _with(quotas: Any, **values: float) -> Any:
    """`quotas` with these quotas' values replaced."""
    return dataclasses.replace(
        quotas,
        **{name: dataclasses.replace(getattr(quotas, name), value=value) for name, value in values.items()},
    )


def test_every_size_limit_takes_a_file_exactly_at_it_and_refuses_one_byte_more(tmp_path: Path) -> None:
    """The limits are maxima (AMP refuses a namespace over `rule_namespace_bytes`, not at it): a team's rules
    file exactly at the limit, two services exactly filling the renderer's budget, the platform alerts' file
    and the longest namespace + group name exactly at theirs are accepted; one byte less and each is refused
    or, for the budget, the second service opens the team's next namespace. Sizes measured here as the
    namespace's Data."""
    services = load(generate(tmp_path / "services", 2, slos_per_service=1, shared_team="team-a"))
    quotas = _with(load_quotas(), rule_namespace_fill=1.0)
    roomy = _with(quotas, rule_namespace_bytes=10_000_000)
    together = rule_files(services, runbook_base_url=RUNBOOKS, quotas=roomy)
    both = data_bytes(together["slos-team-a"])
    platform = data_bytes(together["platform-alerts"])
    alone = [
        data_bytes({"groups": [g for g in together["slos-team-a"]["groups"] if g["name"].startswith(prefix)]})
        for prefix in ("slo-svc-000-", "slo-svc-001-")
    ]
    assert both == alone[0] + alone[1] - len("groups:\n")  # one header, both services' groups

    # The budget: both services in one namespace at exactly its size, two namespaces one byte under it.
    limit = max(both, platform)
    exact = _with(quotas, rule_namespace_bytes=limit, rule_namespace_fill=both / limit)
    assert sorted(rule_files(services, runbook_base_url=RUNBOOKS, quotas=exact)) == [
        "platform-alerts",
        "slos-team-a",
    ]
    under = _with(quotas, rule_namespace_bytes=limit, rule_namespace_fill=(both - 1) / limit)
    split = rule_files(services, runbook_base_url=RUNBOOKS, quotas=under)
    assert sorted(split) == ["platform-alerts", "slos-team-a", "slos-team-a-2"]
    assert [data_bytes(split["slos-team-a"]), data_bytes(split["slos-team-a-2"])] == alone

    # One service's rules at exactly the namespace limit pass, one byte over they are refused by name (the
    # platform alerts' bigger file is refused at both limits: only the service's line differs).
    one = load(generate(tmp_path / "one", 1, slos_per_service=1, shared_team="team-a"))
    single = data_bytes(rule_files(one, runbook_base_url=RUNBOOKS, quotas=roomy)["slos-team-a"])
    assert single < platform

    def refused(limit: int) -> list[str]:
        with pytest.raises(SpecError) as error:
            rule_files(one, runbook_base_url=RUNBOOKS, quotas=_with(quotas, rule_namespace_bytes=limit))
        return str(error.value).splitlines()

    too_big = "the rules of svc-000's 1 SLO(s) render to"
    assert not [line for line in refused(single) if too_big in line]
    assert [line for line in refused(single - 1) if too_big in line] == [
        f"{tmp_path}/one/svc-000/slos.yaml: slos: {too_big} {single:,} bytes, over the {single - 1:,}-byte "
        "limit of one rule groups namespace (observability/spec/amp-quotas.yaml: rule_namespace_bytes): "
        "split its SLOs over more than one service"
    ]

    # The platform alerts' file: at its own size, accepted; one byte less, named with both sizes.
    assert "platform-alerts" in rule_files(
        one, runbook_base_url=RUNBOOKS, quotas=_with(quotas, rule_namespace_bytes=platform)
    )
    assert (
        f"rules/platform-alerts.yaml: must be at most {platform - 1:,} bytes (got {platform:,})"
        in refused(platform - 1)
    )

    # The namespace + group name bytes: the longest pair exactly at the limit passes, one byte less does not.
    combined = {
        (namespace, group["name"]): len(namespace.encode()) + len(group["name"].encode())
        for namespace, document in together.items()
        for group in document["groups"]
    }
    longest = max(combined.values())
    at_name_limit = _with(roomy, namespace_and_group_name_bytes=longest)
    assert rule_files(services, runbook_base_url=RUNBOOKS, quotas=at_name_limit)
    over = _with(roomy, namespace_and_group_name_bytes=longest - 1)
    with pytest.raises(SpecError) as error:
        rule_files(services, runbook_base_url=RUNBOOKS, quotas=over)
    rule = f"namespace + group name must be at most {longest - 1} UTF-8 bytes (got {longest})"
    assert str(error.value).splitlines() == sorted(
        f"rules/{namespace}.yaml: groups[{group}]: {rule}"
        for (namespace, group), size in combined.items()
        if size == longest
    )
