"""The SLO alerts at the cluster's intervals, with real processes: the generated rules loaded by the
receiver Prometheus (standing in for AMP's ruler) at a 60 s evaluation interval, the agent scraping every
30 s. Under steady load, stopping Postgres makes the web app's availability page alert (its fast-burn
pair, 14.4x over 1h and 5m) fire; it resolves after Postgres returns, once the 5m window is clean. The
times from the outage to firing and from recovery to resolution are printed (target: fire within 3 min).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from harness.cluster_stack import ClusterStack
from harness.load import Load
from harness.manifests import Manifests
from harness.stack import Prometheus, generated_config, wait_until
from observability import conventions
from observability.dashboards import folders
from observability.model.load import load_default
from observability.model.promql import selectors
from observability.render.rules import rule_files

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

SCRAPE_INTERVAL = 30  # the cluster's (monitoring.scrape_interval_seconds default)
EVALUATION_INTERVAL = 60  # AMP's default rule group interval
TIME_TO_FIRE_TARGET = 180
RUNBOOK_BASE_URL = "https://example.invalid/runbooks"


def fast_availability_page(files: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The alerting rule that pages on a fast burn of the availability SLO (14.4x over 1h and 5m), found
    by its labels, not by its name."""
    wanted = {
        conventions.SEVERITY_LABEL: conventions.PAGE,
        conventions.LONG_WINDOW_LABEL: "1h",
        conventions.SHORT_WINDOW_LABEL: "5m",
    }
    rules = [
        rule
        for document in files.values()
        for group in document["groups"]
        if group["name"] == "slo-orders-api-availability"
        for rule in group["rules"]
        if "alert" in rule and wanted.items() <= rule.get("labels", {}).items()
    ]
    assert len(rules) == 1, f"expected one rule labelled {wanted}, found {len(rules)}"
    return rules[0]


def firing(receiver: Prometheus, alert: Mapping[str, Any]) -> list[dict[str, Any]]:
    wanted = {k: v for k, v in alert.get("labels", {}).items() if "{{" not in str(v)}
    response = httpx.get(f"{receiver.url}/api/v1/alerts", timeout=10).json()
    return [
        a
        for a in response["data"]["alerts"]
        if a["labels"].get("alertname") == alert["alert"]
        and a["state"] == "firing"
        and all(a["labels"].get(k) == v for k, v in wanted.items())
    ]


@pytest.fixture(scope="module")
def alerting_stack(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[ClusterStack]:
    workdir = tmp_path_factory.mktemp("alerting")
    stack = ClusterStack(workdir, charts=manifests)
    stack.receiver = Prometheus.receiver(
        workdir / "receiver",
        rule_files=rule_files(load_default(), runbook_base_url=RUNBOOK_BASE_URL),
        evaluation_interval_seconds=EVALUATION_INTERVAL,
    )
    with stack:
        config = generated_config(cluster_name="alerting", scrape_interval_seconds=SCRAPE_INTERVAL)
        stack.start_agent("agent", config)
        yield stack


def test_postgres_outage_pages_within_minutes_and_resolves(alerting_stack, capsys):
    stack, receiver = alerting_stack, alerting_stack.receiver
    alert = fast_availability_page(rule_files(load_default(), runbook_base_url=RUNBOOK_BASE_URL))
    with Load(stack.app_url) as load:
        # Steady state: the rates need two scrapes; nothing pages while all requests succeed.
        assert wait_until(
            lambda: bool(receiver.query('sum(rate(http_requests_total{status="200"}[5m])) > 0')),
            attempts=60,
            interval=5,
        ), receiver.log()[-2000:]
        time.sleep(2 * EVALUATION_INTERVAL)
        assert firing(receiver, alert) == []

        outage_start = time.monotonic()
        stack.pg.stop()
        fired = wait_until(lambda: bool(firing(receiver, alert)), attempts=96, interval=5)
        time_to_fire = time.monotonic() - outage_start
        stack.pg.start()
        assert fired, f"{alert['alert']} did not fire within 8 min; statuses {load.statuses}"
        assert load.statuses.get(503, 0) > 0, load.statuses

        recovery_start = time.monotonic()
        assert wait_until(lambda: http_ready(stack.app_url), attempts=60, interval=1)
        resolved = wait_until(lambda: not firing(receiver, alert), attempts=180, interval=5)
        time_to_resolve = time.monotonic() - recovery_start
    with capsys.disabled():
        print(
            f"\n{alert['alert']}: fired {time_to_fire:.0f} s after Postgres stopped "
            f"(target {TIME_TO_FIRE_TARGET} s), resolved {time_to_resolve:.0f} s after it returned"
        )
    assert resolved, f"{alert['alert']} still firing 15 min after Postgres returned"


def http_ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


# Dashboard variables as a user with "All" selected sees them, and a rate window of four scrapes.
PANEL_VARIABLES = {"$cluster": ".*", "$environment": ".*", "$namespace": ".*", "$__rate_interval": "2m"}


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel, query) of every panel target, variables substituted."""
    queries = []
    for dashboard in [model for folder in folders(load_default()) for model in folder.dashboards]:
        for panel in dashboard.get("panels", []):
            for target in panel.get("targets") or []:
                expr = target["expr"]
                for variable, value in PANEL_VARIABLES.items():
                    expr = expr.replace(variable, value)
                queries.append((dashboard["title"], panel["title"], expr))
    return queries


def _runs_here(expr: str, present: set[str], labels: dict[str, set[str]]) -> bool:
    """Every series the query reads exists here, and every job or alert name it selects has series here."""
    return all(
        selector.name in present
        and all(
            selector.equals[label] in values for label, values in labels.items() if label in selector.equals
        )
        for selector in selectors(expr)
    )


def test_every_panel_whose_series_exist_here_returns_data(alerting_stack, capsys):
    """Runs after the outage test, on the same stack: the receiver holds scraped series, the recorded SLO
    series and ALERTS. A panel whose every series exists here must return data over the last 15 minutes;
    the others read exporters that cannot run here (kubelet, cAdvisor, kube-state-metrics, API server), a
    scrape job not running here, or the ALERTS of an alert that did not fire here (the latency SLO's)."""
    receiver = alerting_stack.receiver
    present = set(receiver.metric_names())
    labels = {
        label: set(httpx.get(f"{receiver.url}/api/v1/label/{label}/values", timeout=30).json()["data"])
        for label in ("job", "alertname")
    }
    end = time.time()
    checked, empty = 0, []
    for dashboard, panel, expr in panel_queries():
        if not _runs_here(expr, present, labels):
            continue
        checked += 1
        params: dict[str, str | float] = {"query": expr, "start": end - 900, "end": end, "step": 30}
        body = httpx.get(f"{receiver.url}/api/v1/query_range", params=params, timeout=30).json()
        assert body["status"] == "success", (dashboard, panel, expr, body)
        if not body["data"]["result"]:
            empty.append((dashboard, panel, expr))
    with capsys.disabled():
        print(f"\npanel queries run against the receiver: {checked} of {len(panel_queries())}")
    assert checked >= 20, f"only {checked} panel queries could run here"
    assert empty == []
