"""The verification's checks against a local AMP server and stubbed control planes: success, each failure
the issue names, bounded waits on a fake clock, and Grafana seen only through its health check function."""

from __future__ import annotations

import pytest

from observability.jobs import JOBS, SERVICE_ENDPOINTS
from scripts.verification.amp import expected_jobs, rule_namespaces
from scripts.verification.report import Deadline, Result
from scripts.verification.run import run_checks
from tests.verification.fakes import (
    GRAFANA_HEALTH_ARN,
    Aws,
    FakeClock,
    FakeServer,
    healthy_grafana,
    probe_answer,
)

TIMEOUT = 600.0
INTERVAL = 15.0


def all_up(server: FakeServer, *, but: tuple[str, ...] = ()) -> None:
    for job in expected_jobs():
        if job not in but:
            server.up[job] = ["1", "1"]


def healthy_control_planes(aws: Aws, *, alertmanager: str = "ACTIVE", slos: str = "ACTIVE") -> None:
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", slos, "rules file refused" if slos != "ACTIVE" else "")
    aws.alertmanager(alertmanager, "bad receiver" if alertmanager != "ACTIVE" else "")
    aws.grafana_health()
    delivered(aws)


def delivered(aws: Aws) -> None:
    """The Watchdog heartbeat reached its topic, SNS failed nothing, Alertmanager logged no error."""
    aws.sns_metrics(published=[1.0])
    aws.alertmanager_log()


def run(aws: Aws, clock: FakeClock, timeout: float = TIMEOUT) -> tuple[dict[str, Result], list[str]]:
    lines: list[str] = []
    deadline = Deadline(clock=clock, at=clock.monotonic() + timeout, interval=INTERVAL)
    results = run_checks(aws.settings(), aws.clients(), deadline, emit=lambda r: lines.append(r.line()))
    return {r.check: r for r in results}, lines


def failed(results: dict[str, Result]) -> list[str]:
    return [name for name, r in results.items() if not r.ok]


def test_expected_jobs_and_namespaces_come_from_the_spec() -> None:
    assert expected_jobs() == [*(job for job in JOBS if job != SERVICE_ENDPOINTS), "orders-api"]
    # AMP's managed collector: every job but the agent's own.
    assert expected_jobs(managed_collector=True) == [
        *(job for job in JOBS if job not in (SERVICE_ENDPOINTS, "prometheus-agent")),
        "orders-api",
    ]
    assert rule_namespaces() == ["platform-alerts", "slos-orders"]


def test_success(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, lines = run(aws, clock)

    assert failed(results) == []
    assert len(lines) == 10
    assert all(line.startswith("PASS  ") for line in lines)
    assert "PASS  Grafana data sources healthy: amp OK, amp-alertmanager OK, cloudwatch OK" in lines
    assert "PASS  Grafana dashboards provisioned: eks-cluster present, eks-nodes present" in lines
    assert clock.sleeps == []
    aws.assert_done()  # one invocation of the health check; no Grafana client exists at all
    # One signed instant query of `up` per expected job: SigV4 for service `aps` in the workspace's region.
    assert [q for q, _ in server.queries] == [f'up{{job="{job}"}}' for job in expected_jobs()]
    for _, headers in server.queries:
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/aps/aws4_request" in headers["authorization"]
        assert "x-amz-date" in headers


def test_samples_arriving_late_are_waited_for(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    server.up_from_round["pods"] = 3
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == []
    assert clock.sleeps == [INTERVAL, INTERVAL]
    # Jobs already seen are not asked again.
    assert sum(1 for q, _ in server.queries if "kubelet" in q) == 1
    assert sum(1 for q, _ in server.queries if '"pods"' in q) == 3


def test_no_samples_fails_after_the_bounded_wait(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, lines = run(aws, clock)

    assert failed(results) == ["samples arrive in AMP"]
    assert f"job(s) {', '.join(expected_jobs())}" in results["samples arrive in AMP"].detail
    assert clock.now <= TIMEOUT
    assert len(clock.sleeps) == int(TIMEOUT // INTERVAL)
    assert "FAIL  samples arrive in AMP: no target up after the wait" in "\n".join(lines)


@pytest.mark.parametrize("values", [[], ["0", "0"]], ids=["no-series", "targets-down"])
def test_one_job_missing(aws: Aws, server: FakeServer, clock: FakeClock, values: list[str]) -> None:
    all_up(server, but=("kube-state-metrics",))
    server.up["kube-state-metrics"] = values
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == ["samples arrive in AMP"]
    assert results["samples arrive in AMP"].detail.endswith("for job(s) kube-state-metrics")


def test_rules_inactive(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws, slos="CREATION_FAILED")
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == ["rule groups namespaces ACTIVE"]
    assert results["rule groups namespaces ACTIVE"].detail == (
        "platform-alerts ACTIVE, slos-orders CREATION_FAILED (rules file refused)"
    )
    assert clock.sleeps == []  # a failed status is final: no wait


def test_rules_updating_are_waited_for(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "UPDATING")
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "ACTIVE")
    aws.alertmanager("ACTIVE")
    aws.grafana_health()
    aws.probe(probe_answer())
    delivered(aws)

    results, _ = run(aws, clock)

    assert failed(results) == []
    assert clock.sleeps == [INTERVAL]
    aws.assert_done()


def test_alertmanager_inactive(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws, alertmanager="UPDATE_FAILED")
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == ["Alertmanager definition ACTIVE"]
    assert results["Alertmanager definition ACTIVE"].detail == "definition UPDATE_FAILED (bad receiver)"


def test_datasource_unhealthy_and_dashboard_missing(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "ACTIVE")
    aws.alertmanager("ACTIVE")
    answer = healthy_grafana()
    answer["datasources"]["cloudwatch"] = "ERROR (AccessDenied: cloudwatch:ListMetrics)"
    answer["dashboards"]["eks-nodes"] = "missing"
    aws.grafana_health(answer)
    aws.probe(probe_answer())
    delivered(aws)

    results, _ = run(aws, clock)

    assert failed(results) == ["Grafana data sources healthy", "Grafana dashboards provisioned"]
    assert results["Grafana data sources healthy"].detail == (
        "amp OK, amp-alertmanager OK, cloudwatch ERROR (AccessDenied: cloudwatch:ListMetrics)"
    )
    assert results["Grafana dashboards provisioned"].detail == "eks-cluster present, eks-nodes missing"
    assert clock.sleeps == []  # a settled answer: no wait
    aws.assert_done()


def test_grafana_workspace_updating_is_waited_for(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "ACTIVE")
    aws.alertmanager("ACTIVE")
    aws.grafana_health({"workspace": "UPDATING"})
    aws.grafana_health()
    aws.probe(probe_answer())
    delivered(aws)

    results, _ = run(aws, clock)

    assert failed(results) == []
    assert clock.sleeps == [INTERVAL]
    aws.assert_done()


@pytest.mark.parametrize(
    ("answer", "function_error", "detail"),
    [
        ({"workspace": "FAILED"}, None, "workspace is FAILED"),
        ({"error": "Grafana HTTP API: gave up after 50 s"}, None, "Grafana HTTP API: gave up after 50 s"),
        ({"errorMessage": "Task timed out after 60 s"}, "Unhandled", "function failed: Task timed out"),
    ],
    ids=["workspace-failed", "health-check-error", "function-error"],
)
def test_grafana_health_check_failures(
    aws: Aws,
    server: FakeServer,
    clock: FakeClock,
    answer: dict[str, str],
    function_error: str | None,
    detail: str,
) -> None:
    all_up(server)
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "ACTIVE")
    aws.alertmanager("ACTIVE")
    aws.invoked(GRAFANA_HEALTH_ARN, answer, function_error)
    aws.probe(probe_answer())
    delivered(aws)

    results, _ = run(aws, clock, timeout=0)

    assert failed(results) == ["Grafana data sources healthy", "Grafana dashboards provisioned"]
    assert results["Grafana data sources healthy"].detail.startswith(detail)
    aws.assert_done()


def test_rollout_stuck_fails_at_once(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer(complete=False, stuck=True, ready=False, detail="ProgressDeadlineExceeded: ..."))

    results, _ = run(aws, clock)

    assert failed(results) == ["web app rollout complete", "web app readiness endpoint answers 200"]
    assert results["web app rollout complete"].detail.startswith("ProgressDeadlineExceeded")
    assert clock.sleeps == []
    aws.assert_done()  # one invocation


def test_rollout_completing_is_waited_for(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer(complete=False, detail="desired 2, updated 1"))
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == []
    assert clock.sleeps == [INTERVAL]


def test_readiness_failing(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    polls = int(TIMEOUT // INTERVAL) + 1
    for _ in range(polls):
        aws.probe(probe_answer(ready=False))

    results, _ = run(aws, clock)

    assert failed(results) == ["web app readiness endpoint answers 200"]
    assert results["web app readiness endpoint answers 200"].detail.endswith("b 503")
    assert clock.now <= TIMEOUT
    aws.assert_done()


def test_probe_error_fails_both_web_app_checks(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    aws.probe({"errorMessage": "Task timed out after 60.00 seconds"}, function_error="Unhandled")

    results, _ = run(aws, clock, timeout=0)

    assert failed(results) == ["web app rollout complete", "web app readiness endpoint answers 200"]
    assert "Task timed out" in results["web app rollout complete"].detail


def test_timeout_bounds_the_whole_run(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    """Samples never arrive and the rollout never completes: the waits share one deadline, so the probe
    gets a single look after the samples used the time up."""
    healthy_control_planes(aws)
    aws.probe(probe_answer(complete=False, detail="desired 2, updated 1"))

    results, _ = run(aws, clock, timeout=120)

    assert failed(results) == ["samples arrive in AMP", "web app rollout complete"]
    assert clock.now <= 120
    aws.assert_done()  # exactly one probe invocation
