"""The generated rules and dashboards at the cluster's intervals, with real processes on the simulated
cluster: the rules loaded by the receiver Prometheus (standing in for AMP's ruler) at a 60 s evaluation
interval, the agent scraping every 30 s, and every dashboard panel whose series exist here answering with
data. (The availability page firing on a Postgres outage and resolving after it, at these intervals and
through Alertmanager to its notification, is `make e2e`'s: tests/e2e/test_sandbox_e2e.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from harness.cluster_stack import ClusterStack
from harness.manifests import Manifests
from harness.stack import Prometheus, generated_config
from observability.dashboards import folders
from observability.model.load import load_default
from observability.model.promql import selectors
from observability.render.rules import rule_files

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

SCRAPE_INTERVAL = 30  # the cluster's (monitoring.scrape_interval_seconds default)
EVALUATION_INTERVAL = 60  # AMP's default rule group interval
RUNBOOK_BASE_URL = "https://example.invalid/runbooks"


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
