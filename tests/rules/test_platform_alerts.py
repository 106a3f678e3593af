"""The platform alerts (observability/platform_alerts): promtool accepts the generated file, each alert
fires on input written as Prometheus input series and stays quiet on a near miss (and before its `for:`
is over), each has a runbook, and each reads only series the agent keeps. The cases of the alerts added
for EKS live in tests/rules/cases_*.py, in the same form (tests/rules/alert_cases.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from observability import catalog, jobs
from observability import conventions as c
from observability import platform_alerts as pa
from observability.model.load import load_default
from observability.model.promql import series_names
from tests.rules import cases_nodes, cases_targets, cases_workloads
from tests.rules.alert_cases import (
    AGENT,
    BASE_URL,
    BOTTLEROCKET_ROOT,
    KSM,
    KUBELET,
    NODE,
    PG,
    PVC_SERIES,
    QUEUE,
    ROOT,
    Case,
    Expected,
    Scenario,
    labels,
    promtool_test,
    static,
)
from tests.rules.conftest import write_yaml

REPOSITORY = Path(__file__).resolve().parents[2]
SECTIONS = ("## Meaning", "## Impact", "## Diagnosis", "## Remedies")
# Series the rule evaluator itself writes (AMP too): alert states, not scraped.
RULE_SERIES = {"ALERTS", "ALERTS_FOR_STATE"}
NOT_ON_EKS = re.compile(r"etcd|scheduler|controller[-_]manager", re.IGNORECASE)

CRASHING = 'namespace="orders", pod="orders-api-7d9f8b6c5d-x2x9q", container="orders-api"'
WAITING = "kube_pod_container_status_waiting_reason"
CRASH_LOOP = f'{WAITING}{{{KSM}, {CRASHING}, reason="CrashLoopBackOff"}}'
CREATING = f'{WAITING}{{{KSM}, namespace="orders", pod="orders-api-2", container="orders-api", reason="ContainerCreating"}}'  # noqa: E501


def fs(selector: str, avail: str, size: str, readonly: str) -> dict[str, str]:
    return {
        f"node_filesystem_avail_bytes{{{selector}}}": avail,
        f"node_filesystem_size_bytes{{{selector}}}": size,
        f"node_filesystem_readonly{{{selector}}}": readonly,
    }


def volume(selector: str, available: str, capacity: str, used: str) -> dict[str, str]:
    return {
        f"kubelet_volume_stats_available_bytes{{{selector}}}": available,
        f"kubelet_volume_stats_capacity_bytes{{{selector}}}": capacity,
        f"kubelet_volume_stats_used_bytes{{{selector}}}": used,
    }


def workload(kind: str, selector: str, desired: str, ready: str, updated: str) -> dict[str, str]:
    desired_name, ready_name = {
        "deployment": ("kube_deployment_spec_replicas", "kube_deployment_status_replicas_available"),
        "statefulset": ("kube_statefulset_replicas", "kube_statefulset_status_replicas_ready"),
    }[kind]
    return {
        f"{desired_name}{{{selector}}}": desired,
        f"{ready_name}{{{selector}}}": ready,
        f"kube_{kind}_status_replicas_updated{{{selector}}}": updated,
    }


DEPLOYMENT = f'{KSM}, namespace="orders", deployment="orders-api"'
POSTGRES_STS = f'{KSM}, namespace="orders", statefulset="postgres"'
AGENT_STS = f'{KSM}, namespace="monitoring", statefulset="prometheus-agent"'
ORDERS_DB = f'{PG}, datname="orders"'

CORE_CASES = (
    Case(
        "Watchdog",
        firing=(
            Scenario("at-start", {}, "1m", (Expected(c.NONE, {}, static("Watchdog")),)),
            Scenario("always", {}, "12h", (Expected(c.NONE, {}, static("Watchdog")),)),
        ),
    ),
    Case(
        "TargetDown",
        firing=(
            Scenario(
                "down-10m",
                {f"up{{{KSM}}}": "1 0x20", f"up{{{NODE}}}": "0x20", f"up{{{AGENT}}}": "1x20"},
                "15m",
                (
                    Expected(
                        c.TICKET,
                        labels(KSM),
                        "The agent has failed to scrape kube-state-metrics target 10.0.2.9:8080 for 10 "
                        "minutes.",
                    ),
                    Expected(
                        c.TICKET,
                        labels(NODE),
                        "The agent has failed to scrape node-exporter target 10.0.1.10:9100 (pod "
                        "node-exporter/node-exporter-x7k2p) on node ip-10-0-1-10.ec2.internal for 10 "
                        "minutes.",
                    ),
                ),
                quiet_at=("9m",),
            ),
        ),
        quiet=(
            Scenario(
                "short-outage-or-foreign-job",
                {f"up{{{KSM}}}": "1 0x5 1x15", 'up{job="someone-elses", instance="10.0.9.9:80"}': "0x20"},
                "15m",
            ),
        ),
    ),
    Case(
        "KubeStateMetricsAbsent",
        firing=(
            Scenario(
                "scrapes-failing",
                {f"up{{{KSM}}}": "0x30"},
                "20m",
                (Expected(c.TICKET, {}, static("KubeStateMetricsAbsent")),),
                quiet_at=("14m",),
            ),
            Scenario(
                "not-discovered",
                {f"up{{{NODE}}}": "1x30"},
                "20m",
                (Expected(c.TICKET, {}, static("KubeStateMetricsAbsent")),),
                quiet_at=("14m",),
            ),
        ),
        quiet=(Scenario("up", {f"up{{{KSM}}}": "1x30"}, "20m"),),
    ),
    Case(
        "PrometheusAgentAbsent",
        firing=(
            # Remote write stops at 4m: the agent's own samples stop arriving too.
            Scenario(
                "data-stops",
                {f"up{{{AGENT}}}": "1x4 _x25", f"up{{{NODE}}}": "1x4 _x25"},
                "25m",
                (Expected(c.PAGE, {}, static("PrometheusAgentAbsent")),),
                quiet_at=("18m",),
            ),
        ),
        quiet=(Scenario("delivering", {f"up{{{AGENT}}}": "1x30"}, "25m"),),
    ),
    Case(
        "NodeFilesystemSpaceFillingUp",
        firing=(
            # 45 % free, losing 0.2 GB per 5 min: under 40 % after 2h10m, empty within a day.
            Scenario(
                "filling",
                fs(ROOT, "45000000000-200000000x60", "100000000000+0x60", "0+0x60"),
                "4h",
                (
                    Expected(
                        c.TICKET,
                        labels(ROOT),
                        "Filesystem / (/dev/nvme0n1p1) on node ip-10-0-1-10.ec2.internal has 35.4% space "
                        "left and is predicted to fill within 24 hours.",
                    ),
                ),
                interval="5m",
                quiet_at=("189m",),
            ),
        ),
        quiet=(
            Scenario(
                "low-but-steady-or-read-only",
                {
                    **fs(ROOT, "30000000000+0x60", "100000000000+0x60", "0+0x60"),
                    **fs(BOTTLEROCKET_ROOT, "45000000000-200000000x60", "100000000000+0x60", "1+0x60"),
                },
                "4h",
                interval="5m",
            ),
        ),
    ),
    Case(
        "NodeFilesystemAlmostOutOfSpace",
        firing=(
            Scenario(
                "12-percent",
                fs(ROOT, "12000000000+0x30", "100000000000+0x30", "0+0x30"),
                "20m",
                (
                    Expected(
                        c.PAGE,
                        labels(ROOT),
                        "Filesystem / (/dev/nvme0n1p1) on node ip-10-0-1-10.ec2.internal has 12.0% space "
                        "left. The kubelet evicts pods below 10%.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "20-percent-or-read-only",
                {
                    **fs(ROOT, "20000000000+0x30", "100000000000+0x30", "0+0x30"),
                    **fs(BOTTLEROCKET_ROOT, "0+0x30", "100000000000+0x30", "1+0x30"),
                },
                "20m",
            ),
        ),
    ),
    Case(
        "NodeMemoryHighUtilization",
        firing=(
            Scenario(
                "95-percent",
                {
                    f"node_memory_MemAvailable_bytes{{{NODE}}}": "400000000+0x30",
                    f"node_memory_MemTotal_bytes{{{NODE}}}": "8000000000+0x30",
                },
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(NODE),
                        "Node ip-10-0-1-10.ec2.internal has used 95.0% of its memory for 15 minutes: the "
                        "kubelet evicts pods or the kernel kills processes next.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "half-used-or-short-spike",
                {
                    f"node_memory_MemAvailable_bytes{{{NODE}}}": "4000000000x5 400000000x10 4000000000x15",
                    f"node_memory_MemTotal_bytes{{{NODE}}}": "8000000000+0x30",
                },
                "20m",
            ),
        ),
    ),
    Case(
        "KubePodCrashLooping",
        firing=(
            # Between crashes the container runs briefly: kube-state-metrics reports no waiting reason then.
            Scenario(
                "crash-loop",
                {CRASH_LOOP: "1x3 _ 1x3 _ 1x3 _ 1x3 _ 1x3 _ 1x3"},
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(KSM, reason="CrashLoopBackOff", **labels(CRASHING)),
                        "Container orders-api of pod orders/orders-api-7d9f8b6c5d-x2x9q has been in "
                        "CrashLoopBackOff for 15 minutes.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "one-crash-or-other-reason",
                {
                    CRASH_LOOP: "1x4 _x25",
                    CREATING: "1x30",
                },
                "20m",
            ),
        ),
    ),
    Case(
        "KubeDeploymentReplicasMismatch",
        firing=(
            Scenario(
                "stuck",
                workload("deployment", DEPLOYMENT, "3+0x30", "1+0x30", "3+0x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(DEPLOYMENT),
                        "Deployment orders/orders-api has had fewer available replicas than desired for 15 "
                        "minutes, and no rollout is making progress.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            # A scale-up that the new pods catch up with within 9 minutes.
            Scenario(
                "scale-up", workload("deployment", DEPLOYMENT, "2x5 4x25", "2x14 4x15", "2x5 4x25"), "20m"
            ),
        ),
    ),
    Case(
        "KubeStatefulSetReplicasMismatch",
        firing=(
            Scenario(
                "postgres-not-ready",
                workload("statefulset", POSTGRES_STS, "1+0x30", "0+0x30", "1+0x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(POSTGRES_STS),
                        "StatefulSet orders/postgres has not had the number of ready replicas it wants for "
                        "15 minutes, and no rollout is making progress.",
                    ),
                ),
                quiet_at=("14m",),
            ),
            # Scaled from 2 to 1, the second pod never goes away (stuck terminating on a lost node): the
            # `>` this alert had missed it.
            Scenario(
                "scale-down-never-finishes",
                workload("statefulset", AGENT_STS, "2x4 1x25", "2+0x30", "2+0x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(AGENT_STS),
                        "StatefulSet monitoring/prometheus-agent has not had the number of ready replicas it "
                        "wants for 15 minutes, and no rollout is making progress.",
                    ),
                ),
                quiet_at=("19m",),
            ),
        ),
        quiet=(
            Scenario(
                "ready-or-short-restart",
                {
                    **workload("statefulset", POSTGRES_STS, "1+0x30", "1+0x30", "1+0x30"),
                    **workload("statefulset", AGENT_STS, "1+0x30", "1x5 0x5 1x20", "1+0x30"),
                },
                "20m",
            ),
        ),
    ),
    Case(
        "KubePersistentVolumeFillingUp",
        firing=(
            # 14.5 % free, losing 10 MB per 5 min: full in under four days.
            Scenario(
                "filling",
                volume(PVC_SERIES, "2900000000-10000000x40", "20000000000+0x40", "17100000000+10000000x40"),
                "2h",
                (
                    Expected(
                        c.TICKET,
                        labels(PVC_SERIES),
                        "PersistentVolumeClaim orders/data-postgres-0 has 13.3% space left and is predicted "
                        "to fill within four days.",
                    ),
                ),
                interval="5m",
                quiet_at=("64m",),
            ),
            Scenario(
                "full",
                volume(PVC_SERIES, "400000000+0x10", "20000000000+0x10", "19600000000+0x10"),
                "5m",
                (
                    Expected(
                        c.PAGE,
                        labels(PVC_SERIES),
                        "PersistentVolumeClaim orders/data-postgres-0 has only 2% space left.",
                    ),
                ),
                quiet_at=("0m",),
            ),
        ),
        quiet=(
            Scenario(
                "roomy-or-steady-or-unreported",
                {
                    **volume(PVC_SERIES, "10000000000+0x40", "20000000000+0x40", "10000000000+0x40"),
                    **volume(
                        f'{KUBELET}, namespace="monitoring", persistentvolumeclaim="wal-prometheus-agent-0"',
                        "2000000000+0x40",
                        "20000000000+0x40",
                        "18000000000+0x40",
                    ),
                    **volume(
                        f'{KUBELET}, namespace="orders", persistentvolumeclaim="unreported"',
                        "0+0x40",
                        "20000000000+0x40",
                        "0+0x40",
                    ),
                },
                "2h",
                interval="5m",
            ),
        ),
    ),
    Case(
        "PostgresDown",
        firing=(
            Scenario(
                "not-answering",
                {f"pg_up{{{PG}}}": "1x3 0x20"},
                "10m",
                (
                    Expected(
                        c.PAGE,
                        labels(PG),
                        "Postgres pod orders/postgres-0 has not answered its exporter for 2 minutes, or no "
                        "exporter reports at all.",
                    ),
                ),
                quiet_at=("5m",),
            ),
            Scenario(
                "pod-gone",
                {f"pg_up{{{PG}}}": "1x3 _x20"},
                "15m",
                (
                    Expected(
                        c.PAGE,
                        {"namespace": "orders"},
                        "Postgres in namespace orders has not answered its exporter for 2 minutes, or no "
                        "exporter reports at all.",
                    ),
                ),
                quiet_at=("9m",),
            ),
        ),
        quiet=(Scenario("up-or-one-failed-scrape", {f"pg_up{{{PG}}}": "1x3 0 1x16"}, "10m"),),
    ),
    Case(
        "PostgresTooManyConnections",
        firing=(
            # 78 connections: just over 80 % of the 97 the application may open (100 - 3 reserved).
            Scenario(
                "78-of-97",
                {
                    f'pg_stat_activity_count{{{ORDERS_DB}, state="active"}}': "53+0x20",
                    f'pg_stat_activity_count{{{ORDERS_DB}, state="idle"}}': "25+0x20",
                    f"pg_settings_max_connections{{{PG}}}": "100+0x20",
                    f"pg_settings_superuser_reserved_connections{{{PG}}}": "3+0x20",
                },
                "15m",
                (
                    Expected(
                        c.TICKET,
                        {"namespace": "orders", "pod": "postgres-0"},
                        "Postgres pod orders/postgres-0 has 78 connections, over 80% of those the "
                        "application may open: new connections will soon be refused.",
                    ),
                ),
                quiet_at=("9m",),
            ),
        ),
        quiet=(
            Scenario(
                "77-of-97",
                {
                    f'pg_stat_activity_count{{{ORDERS_DB}, state="active"}}': "52+0x20",
                    f'pg_stat_activity_count{{{ORDERS_DB}, state="idle"}}': "25+0x20",
                    f"pg_settings_max_connections{{{PG}}}": "100+0x20",
                    f"pg_settings_superuser_reserved_connections{{{PG}}}": "3+0x20",
                },
                "15m",
            ),
        ),
    ),
    Case(
        "PostgresDeadlocks",
        firing=(
            Scenario(
                "one-a-minute",
                {f"pg_stat_database_deadlocks{{{ORDERS_DB}}}": "0+1x30"},
                "20m",
                (
                    Expected(
                        c.TICKET,
                        {"namespace": "orders", "pod": "postgres-0", "datname": "orders"},
                        "Database orders in pod orders/postgres-0 had 15 deadlocks in the last 15 minutes: "
                        "each one aborted a transaction.",
                    ),
                ),
                quiet_at=("8m",),
            ),
        ),
        quiet=(
            Scenario(
                "three-in-15m",
                {f"pg_stat_database_deadlocks{{{ORDERS_DB}}}": "0x5 1x5 2x5 3x15"},
                "20m",
            ),
        ),
    ),
    Case(
        "PrometheusRemoteStorageFailures",
        firing=(
            # 10 failed for 600 sent a minute: 1.6 %.
            Scenario(
                "1.6-percent",
                {
                    f"prometheus_remote_storage_samples_failed_total{{{QUEUE}}}": "0+10x30",
                    f"prometheus_remote_storage_samples_total{{{QUEUE}}}": "0+600x30",
                },
                "20m",
                (
                    Expected(
                        c.PAGE,
                        labels(QUEUE),
                        "Agent prometheus-agent-0 failed to send 1.6% of its samples to amp for 15 minutes: "
                        "those samples are lost.",
                    ),
                ),
                quiet_at=("15m",),
            ),
        ),
        quiet=(
            Scenario(
                "0.8-percent",
                {
                    f"prometheus_remote_storage_samples_failed_total{{{QUEUE}}}": "0+5x30",
                    f"prometheus_remote_storage_samples_total{{{QUEUE}}}": "0+600x30",
                },
                "20m",
            ),
        ),
    ),
    Case(
        "PrometheusRemoteWriteBehind",
        firing=(
            Scenario(
                "5m-behind",
                {
                    f"prometheus_remote_storage_highest_timestamp_in_seconds{{{AGENT}}}": "1000+60x30",
                    f"prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{QUEUE}}}": "700+60x30",
                },
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(QUEUE),
                        "Agent prometheus-agent-0 is 5m 0s behind in sending to amp: alerts evaluated in "
                        "Amazon Managed Prometheus see old data.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "30s-behind",
                {
                    f"prometheus_remote_storage_highest_timestamp_in_seconds{{{AGENT}}}": "1000+60x30",
                    f"prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{QUEUE}}}": "970+60x30",
                },
                "20m",
            ),
        ),
    ),
)
CASES = (*CORE_CASES, *cases_targets.CASES, *cases_nodes.CASES, *cases_workloads.CASES)
BY_ALERT = {case.alert: case for case in CASES}
RULES = [rule for group in pa.rules_file(runbook_base_url=BASE_URL)["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = pa.rules_file(runbook_base_url=BASE_URL)
    return write_yaml(tmp_path_factory.mktemp("platform-alerts") / "platform-alerts.yml", document)


def test_promtool_check_rules_passes(promtool, rules_path):
    result = promtool("check", "rules", rules_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(pa.ALERTS)} rules found" in result.stdout


@pytest.mark.parametrize(
    ("case", "scenario"),
    [(case, s) for case in CASES for s in (*case.firing, *case.quiet)],
    ids=[f"{case.alert}-{s.id}" for case in CASES for s in (*case.firing, *case.quiet)],
)
def test_promtool_test_rules(promtool, debian_promtool, rules_path, tmp_path, case, scenario):
    """On Prometheus 3 (the cluster's release) and 2 (Debian's promtool 2.42) alike: their range windows
    differ at the start (3 leaves it out), and which one AMP's ruler follows is not documented, so no case
    may depend on it."""
    path = write_yaml(tmp_path / "test.yml", promtool_test(case, scenario, rules_path))
    for run in (promtool, debian_promtool):
        result = run("test", "rules", path)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case():
    assert set(BY_ALERT) == set(pa.ALERT_NAMES)
    for a in pa.ALERTS:
        fired = {e.severity for s in BY_ALERT[a.name].firing for e in s.expected}
        assert a.severity in fired, f"no case where {a.name} fires as {a.severity}"
        assert all(s.expected for s in BY_ALERT[a.name].firing)
        # Watchdog cannot be quiet: it always fires (its firing cases check that at two times).
        if a.name != pa.WATCHDOG.name:
            assert BY_ALERT[a.name].quiet, f"no case where {a.name} stays quiet"
            assert not any(s.expected for s in BY_ALERT[a.name].quiet)


def _minutes(duration: str) -> float:
    return sum(int(n) * {"m": 1, "h": 60}[unit] for n, unit in re.findall(r"(\d+)([mh])", duration))


@pytest.mark.parametrize("alert", [a for a in pa.ALERTS if a.for_], ids=lambda a: f"{a.name}-{a.severity}")
def test_every_alert_is_seen_quiet_before_its_for_is_over(alert):
    """On the input where it fires as `alert.severity`, the alert is quiet at an earlier time: the case shows
    its `for:` holding it back, not only its threshold."""
    held = [
        s
        for s in BY_ALERT[alert.name].firing
        if any(e.severity == alert.severity for e in s.expected) and s.quiet_at
    ]
    assert held, f"{alert.name} ({alert.severity}): no firing case with a time before its for: is over"
    assert all(_minutes(t) < _minutes(s.eval_time) for s in held for t in s.quiet_at)


def test_severity_and_annotations():
    for rule in RULES:
        severity = rule["labels"][c.SEVERITY_LABEL]
        if rule["alert"] == "Watchdog":
            assert severity == c.NONE
        else:
            assert severity in c.SEVERITIES, rule["alert"]
        assert set(rule["annotations"]) == set(c.ANNOTATIONS), rule["alert"]
        assert all(value.strip() for value in rule["annotations"].values()), rule["alert"]
        assert re.fullmatch(r"[A-Z][a-zA-Z0-9]+", rule["alert"]), rule["alert"]


@pytest.mark.parametrize("name", pa.ALERT_NAMES)
def test_runbook_exists_with_the_required_sections(name):
    path = REPOSITORY / c.runbook_path(name)
    assert path.is_file(), f"missing runbook {path}"
    text = path.read_text()
    assert text.startswith(f"# {name}\n")
    positions = [text.find(f"\n{section}\n") for section in SECTIONS]
    assert all(p > 0 for p in positions), f"{path}: sections {SECTIONS}"
    assert positions == sorted(positions), f"{path}: sections in the order {SECTIONS}"
    diagnosis = text[positions[2] : positions[3]]
    assert "```promql" in diagnosis, f"{path}: diagnosis without queries"
    assert "kubectl " in diagnosis, f"{path}: diagnosis without kubectl commands"
    for url in {r["annotations"][c.RUNBOOK_URL] for r in RULES if r["alert"] == name}:
        assert url.startswith(BASE_URL + "/"), url
        assert url.endswith("/" + path.name), url


def test_runbook_queries_parse_and_read_kept_series():
    kept_anywhere = {name for row in jobs.all_jobs(load_default()) for name in row.series}
    for name in pa.ALERT_NAMES:
        text = (REPOSITORY / c.runbook_path(name)).read_text()
        for query in re.findall(r"```promql\n(.*?)```", text, re.DOTALL):
            for series in series_names(query):  # raises on a typo
                assert series in kept_anywhere | set(catalog.SYNTHETIC_SERIES) | RULE_SERIES, (
                    f"{name}: {series} is not kept"
                )


def test_nothing_that_cannot_work_on_eks():
    for rule in RULES:
        text = " ".join([rule["alert"], rule["expr"], *rule["annotations"].values()])
        assert not NOT_ON_EKS.search(text), rule["alert"]


def test_runbook_base_url_is_required():
    with pytest.raises(ValueError, match=r"^runbook_base_url must not be empty$"):
        pa.rules_file(runbook_base_url=" ")


def test_the_groups_are_the_agents_unless_the_managed_collector_is_asked_for():
    # The agents' groups by default: their own pipeline alerts, no managed collector's.
    assert "platform-pipeline" in pa.groups()
    assert "platform-collector" not in pa.groups()
    assert "platform-collector" in pa.groups(managed_collector=True)


def test_a_runbook_url_joins_the_base_and_the_alert_with_one_slash():
    for base in ("https://git.example/runbooks-X", "https://git.example/runbooks-X/"):
        assert c.runbook_url(base, "Watchdog") == "https://git.example/runbooks-X/Watchdog.md", base
