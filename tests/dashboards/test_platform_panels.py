"""What each platform dashboard shows, panel by panel: its row, title, kind, unit and legends, written here
from each panel's meaning (the snapshot would take any change after `make snapshot-update`; this table
does not). Grafana's units: `short` a plain number (counts, cores, load), `percentunit` a 0-1 ratio shown as a
percentage (shares, utilisation, "used"), per second `reqps` (requests), `ops` (events), `pps` (packets),
`Bps` (bytes), and `bytes`, `s` (seconds). A panel with several queries names each series in its legend:
two series must never read alike for the same labels."""

from __future__ import annotations

from typing import Any

import pytest

from observability.dashboards import all_dashboards
from observability.dashboards.common import by, rate, sel
from tests.dashboards.queries import all_models

Row = list[tuple[str, str, str | None, tuple[str, ...]]]
AUTO = ("__auto",)  # one series: Grafana names it after its labels
PANELS: dict[tuple[str, str], dict[str, Row]] = {
    ("eks-obs-cluster", "EKS / Cluster overview"): {
        "Health": [
            ("Nodes", "stat", "short", ("__auto",)),
            ("Nodes not ready", "stat", "short", ("__auto",)),
            ("Nodes cordoned", "stat", "short", ("__auto",)),
            ("Alerts firing", "stat", "short", ("__auto",)),
            ("Scrape targets up, by job", "timeseries", "short", ("{{job}}",)),
            ("Alerts firing, by severity", "timeseries", "short", ("{{severity}}",)),
        ],
        "API server": [
            ("Requests by verb", "timeseries", "reqps", ("{{verb}}",)),
            ("5xx share", "timeseries", "percentunit", ("5xx",)),
            ("Latency p99 by verb (without WATCH and CONNECT)", "timeseries", "s", ("{{verb}}",)),
            ("Mean latency", "timeseries", "s", ("mean",)),
            ("Requests in flight", "timeseries", "short", ("{{request_kind}}",)),
        ],
        "Capacity and volumes": [
            (
                "CPU: requests, allocatable, capacity",
                "timeseries",
                "short",
                ("requests", "allocatable", "capacity"),
            ),
            (
                "Memory: requests, allocatable, capacity",
                "timeseries",
                "bytes",
                ("requests", "allocatable", "capacity"),
            ),
            ("Volume claims by phase", "timeseries", "short", ("{{phase}}",)),
            ("Volume claims: requested size and storage class", "table", None, ("__auto",)),
        ],
    },
    ("eks-obs-nodes", "EKS / Nodes (USE)"): {
        "CPU and memory": [
            ("CPU utilisation", "timeseries", "percentunit", ("{{node}}",)),
            ("Load per CPU (1m)", "timeseries", "short", ("{{node}}",)),
            (
                "Load average (1m, 5m, 15m)",
                "timeseries",
                "short",
                ("{{node}} 1m", "{{node}} 5m", "{{node}} 15m"),
            ),
            ("Memory utilisation", "timeseries", "percentunit", ("{{node}}",)),
            (
                "Memory free, buffers, page cache",
                "timeseries",
                "bytes",
                ("{{node}} free", "{{node}} buffers", "{{node}} cached"),
            ),
            ("Major page faults", "timeseries", "ops", ("{{node}}",)),
        ],
        "Disks and network": [
            ("Disk busy (utilisation)", "timeseries", "percentunit", ("{{node}}",)),
            ("Disk queue (saturation)", "timeseries", "short", ("{{node}}",)),
            ("Disk throughput", "timeseries", "Bps", ("{{node}} read", "{{node}} written")),
            ("Network throughput", "timeseries", "Bps", ("{{node}} received", "{{node}} sent")),
            (
                "Network errors and drops",
                "timeseries",
                "pps",
                (
                    "{{node}} receive errors",
                    "{{node}} transmit errors",
                    "{{node}} receive drops",
                    "{{node}} transmit drops",
                ),
            ),
        ],
        "Limits and clock": [
            ("Filesystem inodes used", "timeseries", "percentunit", ("{{node}} {{mountpoint}}",)),
            ("Conntrack entries used", "timeseries", "percentunit", ("{{node}}",)),
            ("File descriptors used", "timeseries", "percentunit", ("{{node}}",)),
            ("Clock offset and sync", "timeseries", "s", ("{{node}} offset", "{{node}} synchronised (1)")),
            ("Kernel versions", "table", None, ("__auto",)),
        ],
        "Kubelet and volumes": [
            ("Kubelets", "timeseries", "short", ("kubelets",)),
            ("Running pods and containers", "timeseries", "short", ("{{node}} pods", "{{node}} containers")),
            (
                "Pod lifecycle events: relist p99 and mean",
                "timeseries",
                "s",
                ("{{node}} p99", "{{node}} mean"),
            ),
            ("Volume inodes used", "timeseries", "percentunit", ("{{persistentvolumeclaim}}",)),
            ("Volume inodes free", "timeseries", "short", ("{{persistentvolumeclaim}}",)),
        ],
    },
    ("eks-obs-workloads", "EKS / Workloads"): {
        "Resources": [
            (
                "CPU usage against requests and limits",
                "timeseries",
                "short",
                ("{{namespace}}/{{pod}}", "{{namespace}}/{{pod}} request", "{{namespace}}/{{pod}} limit"),
            ),
            ("CPU throttled share", "timeseries", "percentunit", ("{{namespace}}/{{pod}}",)),
            (
                "Memory working set against requests and limits",
                "timeseries",
                "bytes",
                ("{{namespace}}/{{pod}}", "{{namespace}}/{{pod}} request", "{{namespace}}/{{pod}} limit"),
            ),
            (
                "Memory RSS and page cache",
                "timeseries",
                "bytes",
                ("{{namespace}}/{{pod}} rss", "{{namespace}}/{{pod}} cache"),
            ),
            ("OOM kills", "timeseries", "short", ("{{namespace}}/{{pod}}",)),
            (
                "Network throughput",
                "timeseries",
                "Bps",
                ("{{namespace}}/{{pod}} received", "{{namespace}}/{{pod}} sent"),
            ),
            ("Network drops", "timeseries", "pps", ("{{namespace}}/{{pod}} in", "{{namespace}}/{{pod}} out")),
        ],
        "Pods": [
            ("Pods by phase", "timeseries", "short", ("{{phase}}",)),
            ("Pods not ready", "timeseries", "short", ("{{namespace}}/{{pod}}",)),
            ("Container restarts", "timeseries", "short", ("{{namespace}}/{{pod}}",)),
            ("Pods per node", "timeseries", "short", ("{{node}}",)),
            ("Pods per Deployment", "timeseries", "short", ("{{namespace}}/{{deployment}}",)),
        ],
        "Rollouts and autoscaling": [
            (
                "Deployments: generations not yet observed",
                "timeseries",
                "short",
                ("{{namespace}}/{{deployment}} generations behind",),
            ),
            (
                "StatefulSets: mid-update (current revision is not the update revision)",
                "timeseries",
                "short",
                ("{{namespace}}/{{statefulset}}", "{{namespace}}/{{statefulset}} generations behind"),
            ),
            (
                "DaemonSets: desired, available, updated, misscheduled",
                "timeseries",
                "short",
                (
                    "{{daemonset}} desired",
                    "{{daemonset}} available",
                    "{{daemonset}} updated",
                    "{{daemonset}} misscheduled",
                ),
            ),
            (
                "Autoscalers: current and desired replicas within min and max",
                "timeseries",
                "short",
                (
                    "{{horizontalpodautoscaler}} current",
                    "{{horizontalpodautoscaler}} desired",
                    "{{horizontalpodautoscaler}} min",
                    "{{horizontalpodautoscaler}} max",
                ),
            ),
            ("Pods: node, IP and owner", "table", None, ("__auto",)),
        ],
    },
    ("eks-obs-webapp", "EKS / Web app"): {
        "Requests (RED)": [
            ("Requests by route and status", "timeseries", "reqps", ("{{route}} {{status}}",)),
            ("5xx share by route", "timeseries", "percentunit", ("{{route}}",)),
            ("Latency p99 and mean by route", "timeseries", "s", ("{{route}} p99", "{{route}} mean")),
            ("Running versions", "table", None, ("__auto",)),
        ],
        "Database (from the app)": [
            ("Query latency p99 and mean", "timeseries", "s", ("{{operation}} p99", "{{operation}} mean")),
            ("Query errors", "timeseries", "ops", ("{{operation}} {{kind}}",)),
            ("Connection pool", "timeseries", "short", ("open", "idle", "maximum", "waiting")),
            ("Pool connection errors", "timeseries", "ops", ("errors",)),
        ],
    },
    ("eks-obs-postgres", "EKS / Postgres"): {
        "Availability and connections": [
            ("Up", "stat", "short", ("__auto",)),
            ("Connections used", "stat", "percentunit", ("__auto",)),
            ("Connections by state", "timeseries", "short", ("{{state}}", "limit")),
            ("Backends by database", "timeseries", "short", ("{{datname}}",)),
            ("Oldest transaction", "timeseries", "s", ("{{datname}} {{state}}",)),
        ],
        "Activity": [
            ("Commits and rollbacks", "timeseries", "ops", ("{{datname}} commits", "{{datname}} rollbacks")),
            ("Deadlocks", "timeseries", "ops", ("{{datname}}",)),
            ("Cache hit ratio", "timeseries", "percentunit", ("{{datname}}",)),
            ("Database size", "timeseries", "bytes", ("{{datname}}",)),
            ("Locks by mode", "timeseries", "short", ("{{datname}} {{mode}}",)),
        ],
    },
    ("eks-obs-agent", "EKS / Agent and remote write"): {
        "Pipeline": [
            ("Active series", "stat", "short", ("__auto",)),
            ("Remote-write lag", "stat", "s", ("__auto",)),
            ("Last config reload ok", "stat", "short", ("__auto",)),
            ("Samples pending", "stat", "short", ("__auto",)),
            (
                "Samples sent, failed, retried, dropped (all replicas)",
                "timeseries",
                "ops",
                ("sent", "failed", "retried", "dropped"),
            ),
            ("Remote-write lag", "timeseries", "s", ("lag",)),
            ("Shards: current, desired, max", "timeseries", "short", ("current", "desired", "max")),
        ],
        "Scrapes": [
            ("Targets up, by job", "timeseries", "short", ("{{job}}",)),
            ("Targets discovered, by scrape config", "timeseries", "short", ("{{config}}",)),
            ("Samples kept per scrape, by job", "timeseries", "short", ("{{job}}",)),
            ("Samples scraped (before the keep rules), by job", "timeseries", "short", ("{{job}}",)),
            ("New series per scrape, by job", "timeseries", "short", ("{{job}}",)),
            ("Slowest scrape, by job", "timeseries", "s", ("{{job}}",)),
            ("Scrapes failed by a limit", "timeseries", "ops", ("sample limit", "label limits")),
            ("Agent version", "table", None, ("__auto",)),
        ],
    },
}


def shown(model: dict[str, Any]) -> dict[str, Row]:
    """The dashboard's panels under their rows, as the table above writes them."""
    rows: dict[str, Row] = {}
    current: Row = []
    for panel in model["panels"]:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], [])
            continue
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        legends = tuple(target["legendFormat"] for target in panel["targets"])
        current.append((panel["title"], panel["type"], unit, legends))
    return rows


def test_the_platform_dashboards_are_these_six():
    assert [(model["uid"], model["title"]) for model in all_dashboards()] == list(PANELS)


@pytest.mark.parametrize(("uid", "title"), list(PANELS), ids=[uid for uid, _ in PANELS])
def test_each_panel_sits_in_its_row_with_its_unit_and_legends(uid, title):
    (model,) = [model for model in all_dashboards() if model["uid"] == uid]
    assert model["title"] == title
    assert shown(model) == PANELS[(uid, title)]


def test_no_two_series_of_a_panel_read_alike():
    """(The node dashboard's network errors and drops once showed four series per node, each `{{node}}`.)"""
    for model in all_dashboards():
        for rows in shown(model).values():
            for panel, _, _, legends in rows:
                assert len(set(legends)) == len(legends), (model["uid"], panel)


def test_each_panels_queries_are_lettered_a_b_c_in_order():
    """Grafana's own query ids: A, B, C... (a panel's links and overrides name them)."""
    for model in all_dashboards():
        for panel in model["panels"]:
            refs = [target["refId"] for target in panel.get("targets", [])]
            assert refs == list("ABCDEFGH"[: len(refs)]), (model["uid"], panel["title"])


def test_a_selector_takes_the_variables_then_each_matcher_with_its_operator():
    scope = 'cluster=~"$cluster", environment=~"$environment"'
    assert sel("up") == f"up{{{scope}}}"
    assert sel("m", a="x", b="~x.*", c="!~y|z", d="!lo") == (
        f'm{{{scope}, a="x", b=~"x.*", c!~"y|z", d!="lo"}}'
    )
    assert rate("m", d="!lo") == f'rate(m{{{scope}, d!="lo"}}[$__rate_interval])'
    assert by("node", "x") == "sum by (node) (x)"
    assert by("job", "x", "max") == "max by (job) (x)"


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "type": "query",
        "name": name,
        "label": label,
        "query": query,
        "datasource": {"type": "prometheus", "uid": "amp"},
        "includeAll": True,
        "allValue": ".*",  # "All" must match every value: the queries read `cluster=~"$cluster"`
        "multi": False,
        "refresh": 2,  # reload the values when the time range changes
        "skipUrlSync": False,
        "auto": False,
        "auto_count": 30,
        "auto_min": "10s",
    }


def test_every_dashboard_picks_environment_then_cluster_over_the_last_six_hours():
    """Every dashboard, the services' too: the environment, then the clusters of that environment (each "All"
    by default), the last 6 hours refreshed every minute, tagged as generated, panels numbered 1, 2, 3... in
    order (a panel's link names its number)."""
    for model in all_models():
        namespaces = (
            'label_values(kube_pod_info{cluster=~"$cluster", environment=~"$environment"}, namespace)'
        )
        assert model["templating"]["list"] == [
            _variable("environment", "Environment", "label_values(up, environment)"),
            _variable("cluster", "Cluster", 'label_values(up{environment=~"$environment"}, cluster)'),
            # The workloads dashboard narrows to the namespaces of the clusters picked.
            *(
                [_variable("namespace", "Namespace", namespaces)]
                if model["uid"] == "eks-obs-workloads"
                else []
            ),
        ]
        assert model["time"] == {"from": "now-6h", "to": "now"}
        assert model["refresh"] == "1m"
        # A service's dashboard is also tagged with its team and service (services/orders-api/service.yaml).
        own = ["team:orders", "service:orders-api"] if model["uid"] == "svc-orders-api" else []
        assert model["tags"] == ["eks-observability", "generated", *own]
        assert [panel["id"] for panel in model["panels"]] == list(range(1, len(model["panels"]) + 1))


def test_a_stat_is_a_quarter_row_and_a_table_a_whole_row_of_one_instant_query():
    for model in all_dashboards():
        for panel in model["panels"]:
            if panel["type"] == "stat":
                assert (panel["gridPos"]["w"], panel["gridPos"]["h"]) == (6, 5)
            if panel["type"] == "table":
                assert panel["gridPos"]["w"] == 24
                ((target),) = panel["targets"]
                assert (target["instant"], target["format"]) == (True, "table")
