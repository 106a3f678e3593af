"""The verification's checks against a local AMP/Grafana server and stubbed control planes: success, each
failure the issue names, bounded waits on a fake clock, and the Grafana token's life."""

from __future__ import annotations

import logging

import pytest

from observability.jobs import JOBS, SERVICE_ENDPOINTS
from scripts.verification.amp import expected_jobs, rule_namespaces
from scripts.verification.report import Deadline, Result
from scripts.verification.run import run_checks
from tests.verification.fakes import TOKEN, Aws, FakeClock, FakeServer, probe_answer

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
    aws.grafana_workspace()
    aws.service_account(exists=True)
    aws.token()


def run(aws: Aws, clock: FakeClock, timeout: float = TIMEOUT) -> tuple[dict[str, Result], list[str]]:
    lines: list[str] = []
    deadline = Deadline(clock=clock, at=clock.monotonic() + timeout, interval=INTERVAL)
    results = run_checks(aws.settings(), aws.clients(), deadline, emit=lambda r: lines.append(r.line()))
    return {r.check: r for r in results}, lines


def failed(results: dict[str, Result]) -> list[str]:
    return [name for name, r in results.items() if not r.ok]


def test_expected_jobs_and_namespaces_come_from_the_spec() -> None:
    assert expected_jobs() == [job for job in JOBS if job != SERVICE_ENDPOINTS]
    assert rule_namespaces() == ["platform-alerts", "slos-orders"]


def test_success(aws: Aws, server: FakeServer, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, lines = run(aws, clock)

    assert failed(results) == []
    assert len(lines) == 6
    assert all(line.startswith("PASS  ") for line in lines)
    assert clock.sleeps == []
    aws.assert_done()  # the token was deleted
    # One signed instant query of `up` per expected job: SigV4 for service `aps` in the workspace's region.
    assert [q for q, _ in server.queries] == [f'up{{job="{job}"}}' for job in expected_jobs()]
    for _, headers in server.queries:
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/aps/aws4_request" in headers["authorization"]
        assert "x-amz-date" in headers
    assert server.grafana_auth == [f"Bearer {TOKEN}"] * 3  # amp, amp-alertmanager, cloudwatch
    assert TOKEN not in "\n".join(lines) + caplog.text


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
    aws.grafana_workspace()
    aws.service_account(exists=False)  # created as VIEWER on first use
    aws.token()
    aws.probe(probe_answer())

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


def test_datasource_unhealthy(
    aws: Aws,
    server: FakeServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    all_up(server)
    server.health["cloudwatch"] = (
        400,
        {"status": "ERROR", "message": "AccessDenied: cloudwatch:ListMetrics"},
    )
    healthy_control_planes(aws)
    aws.probe(probe_answer())

    results, lines = run(aws, clock)

    assert failed(results) == ["Grafana data sources healthy"]
    detail = results["Grafana data sources healthy"].detail
    assert detail.startswith("amp OK, amp-alertmanager OK, cloudwatch ERROR (")
    assert "AccessDenied" in detail
    aws.assert_done()  # the token was deleted on the failure path too
    assert TOKEN not in "\n".join(lines) + caplog.text + capsys.readouterr().out


def test_token_deleted_when_grafana_is_unreachable(aws: Aws, server: FakeServer, clock: FakeClock) -> None:
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer())
    settings = aws.settings()
    unreachable = type(settings)(**{**settings.__dict__, "grafana_url": "http://127.0.0.1:9"})
    aws.settings = lambda: unreachable  # type: ignore[method-assign]

    results, lines = run(aws, clock)

    assert failed(results) == ["Grafana data sources healthy"]
    assert results["Grafana data sources healthy"].detail.startswith("Grafana unreachable")
    aws.assert_done()
    assert TOKEN not in "\n".join(lines)


def test_grafana_workspace_not_active_creates_no_token(
    aws: Aws, server: FakeServer, clock: FakeClock
) -> None:
    all_up(server)
    aws.rule_namespace("platform-alerts", "ACTIVE")
    aws.rule_namespace("slos-orders", "ACTIVE")
    aws.alertmanager("ACTIVE")
    aws.grafana_workspace("FAILED")
    aws.probe(probe_answer())

    results, _ = run(aws, clock)

    assert failed(results) == ["Grafana data sources healthy"]
    aws.assert_done()  # no service account or token call was made


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
