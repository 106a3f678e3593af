"""What the platform panels' queries mean, read from their PromQL syntax tree (promql-parser): every label a
legend names survives the query's aggregations; each dashboard's scope (the namespace variable, cAdvisor's
container cgroups, no loopback) reaches every selector it must; the panels that are not sums say which
aggregation they are; the matchers that carry a panel's meaning (kube-state-metrics' conditions and owners,
node-exporter's idle CPU mode, 5xx codes) are the documented ones. test_panel_values.py evaluates some of the
same panels in promtool."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest

from observability.dashboards import all_dashboards
from tests.dashboards.queries import panel_queries, parsable

# Labels a legend names: `{{node}} read` names `node`.
_LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
# The query's labels are those of the series it reads (not narrowed by an aggregation).
KEPT = None


def output_labels(node: Any) -> frozenset[str] | None:
    """The labels the result of `node` can carry: a set, or None when they are the read series' own. Follows
    Prometheus' rules for the node kinds the dashboards use and refuses any other (so a new kind cannot pass
    unchecked)."""
    kind = type(node).__name__
    if kind in ("VectorSelector", "MatrixSelector"):
        return KEPT
    if kind in ("NumberLiteral", "StringLiteral"):
        return frozenset()
    if kind in ("ParenExpr", "UnaryExpr"):
        return output_labels(node.expr)
    if kind == "AggregateExpr":
        inner = output_labels(node.expr)
        if node.op in ("topk", "bottomk"):
            return inner
        if node.modifier is None:
            return frozenset()
        labels = frozenset(node.modifier.labels)
        if str(node.modifier.type).endswith("By"):
            return labels
        return None if inner is None else inner - labels  # without (...)
    if kind == "Call":
        name = node.func.name
        vectors = [arg for arg in node.args if type(arg).__name__ not in ("NumberLiteral", "StringLiteral")]
        if name == "vector":  # vector(0): one series without labels
            return frozenset()
        if name == "histogram_quantile":
            inner = output_labels(node.args[1])
            return None if inner is None else inner - {"le"}
        if name == "label_replace":
            inner = output_labels(node.args[0])
            return None if inner is None else inner | {node.args[1].val}
        if name in (
            "rate",
            "irate",
            "increase",
            "delta",
            "deriv",
            "abs",
            "clamp_min",
            "clamp_max",
            "max_over_time",
        ):
            (vector,) = vectors
            return output_labels(vector)
        raise AssertionError(f"no label rule for the function {name}")
    if kind == "BinaryExpr":
        lhs, rhs = output_labels(node.lhs), output_labels(node.rhs)
        if str(node.op) == "or":  # the series of either side
            return None if lhs is None or rhs is None else lhs | rhs
        if str(node.op) in ("and", "unless"):  # the left side's series, kept or dropped by the right's
            return lhs
        if type(node.lhs).__name__ == "NumberLiteral":
            return rhs
        if type(node.rhs).__name__ == "NumberLiteral":
            return lhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        card = str(modifier.card) if modifier is not None else "OneToOne"
        if card.endswith("ManyToOne") or card.endswith("OneToMany"):
            many = lhs if card.endswith("ManyToOne") else rhs
            return None if many is None else many | frozenset(modifier.group_labels)
        if matching is not None and str(matching.type).endswith("Include"):  # on (...): those labels only
            on = frozenset(matching.labels)
            for side in (lhs, rhs):
                assert side is None or on <= side, f"on {sorted(on)}: a side without them matches nothing"
            return on
        if matching is not None:  # ignoring (...)
            return None if lhs is None else lhs - frozenset(matching.labels)
        # One-to-one on every label: both sides need the same labels, or no series match (an empty panel).
        assert lhs is None or rhs is None or lhs == rhs, (
            f"{sorted(lhs)} against {sorted(rhs)}: nothing matches"
        )
        return lhs
    raise AssertionError(f"no label rule for {kind}")


def platform_targets() -> Iterator[tuple[str, str, str, str]]:
    """(dashboard uid, panel title, legend, parsable expr) of every platform panel's query."""
    for model in all_dashboards():
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                yield model["uid"], panel["title"], target["legendFormat"], parsable(target["expr"])


def each_selector(expr: str) -> list[tuple[str, frozenset[tuple[str, str, str]]]]:
    """(metric, its matchers as (label, operator, value)) of every selector in `expr`, in order."""
    ops = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
    found: list[tuple[str, frozenset[tuple[str, str, str]]]] = []

    def walk(node: Any) -> None:
        kind = type(node).__name__
        if kind == "MatrixSelector":
            node, kind = node.vector_selector, "VectorSelector"
        if kind == "VectorSelector":
            found.append(
                (
                    node.name,
                    frozenset(
                        (m.name, ops[str(m.op).rsplit(".", 1)[-1]], m.value) for m in node.matchers.matchers
                    ),
                )
            )
            return
        for child in ("expr", "lhs", "rhs"):
            if getattr(node, child, None) is not None:
                walk(getattr(node, child))
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(promql_parser.parse(expr))
    return found


def matchers(expr: str) -> set[tuple[str, str, str, str]]:
    """(metric, label, operator, value) of every matcher of every selector in `expr`."""
    return {(metric, *matcher) for metric, found in each_selector(expr) for matcher in found}


@pytest.mark.parametrize(
    ("expr", "labels"),
    [
        ("sum by (job) (up)", {"job"}),
        ("sum(up)", set()),
        ("histogram_quantile(0.99, sum by (le, verb) (rate(x_bucket[5m])))", {"verb"}),
        ('label_replace(up, "shard", "$1", "pod", "(.+)")', None),
        ('label_replace(sum by (pod) (up), "shard", "$1", "pod", "(.+)")', {"pod", "shard"}),
        ("1 - avg by (node) (rate(x[5m]))", {"node"}),
        ("sum by (a, b) (x) / on (a) group_left (c) sum by (a, c) (y)", {"a", "b", "c"}),
        ("sum by (a, b) (x) / on (a) sum by (a) (y)", {"a"}),
        ("sum by (a, b) (x) / ignoring (b) sum by (a) (y)", {"a"}),
        ("sum without (b) (x)", None),
        ("sum by (a, r) (x) unless on (a, r) sum by (a, r, z) (y)", {"a", "r"}),
        ("sum by (a, r, z) (x) and on (a) sum by (a) (y)", {"a", "r", "z"}),
        ("max(x)", set()),
    ],
)
def test_output_labels_follow_prometheus(expr, labels):
    """The rules above on cases whose result labels the Prometheus docs state (aggregation `by` keeps only its
    labels, `histogram_quantile` drops `le`, `on` keeps the matching labels and `group_left` adds its own)."""
    found = output_labels(promql_parser.parse(expr))
    assert found == (None if labels is None else frozenset(labels))


@pytest.mark.parametrize(
    "expr",
    ["sum by (a) (x) / sum by (b) (y)", "sum by (a) (x) / sum(y)", "sum by (a) (x) / on (b) sum by (a) (y)"],
)
def test_sides_without_the_same_labels_match_nothing(expr):
    """One-to-one matching pairs series with the same labels (or the same `on` labels): otherwise the result
    is empty, a panel without data."""
    with pytest.raises(AssertionError, match="match"):
        output_labels(promql_parser.parse(expr))


def test_every_label_a_legend_names_survives_the_query():
    lost = [
        (uid, title, legend, expr)
        for uid, title, legend, expr in platform_targets()
        if (labels := output_labels(promql_parser.parse(expr))) is not None
        and not set(_LEGEND_LABEL.findall(legend)) <= labels
    ]
    assert lost == []


def test_the_workloads_dashboard_narrows_every_query_to_the_namespaces_picked():
    for uid, title, expr in panel_queries(all_dashboards()):
        if uid == "eks-obs-workloads":
            for metric, found in each_selector(expr):
                assert ("namespace", "=~", "$namespace") in found, (title, metric)


def test_container_usage_reads_cadvisors_per_container_cgroups_not_the_pods_total():
    """cAdvisor reports each container and, with `container=""`, the pod's cgroup holding them: counting both
    doubles a pod's CPU, memory and OOM kills (network counters exist only for the pod: no container)."""
    checked = set()
    for uid, title, expr in panel_queries(all_dashboards()):
        for metric, found in each_selector(expr):
            if metric.startswith("container_") and not metric.startswith("container_network_"):
                assert ("container", "!=", "") in found, (uid, title)
                checked.add(metric)
    assert checked == {
        "container_cpu_usage_seconds_total",
        "container_cpu_cfs_throttled_periods_total",
        "container_cpu_cfs_periods_total",
        "container_memory_working_set_bytes",
        "container_memory_rss",
        "container_memory_cache",
        "container_oom_events_total",
    }


def test_node_network_panels_leave_out_the_loopback_device():
    checked = set()
    for uid, title, expr in panel_queries(all_dashboards()):
        for metric, found in each_selector(expr):
            if metric.startswith("node_network_"):
                assert ("device", "!=", "lo") in found, (uid, title)
                checked.add(metric)
    assert len(checked) == 6  # received and sent bytes; receive and transmit errors and drops


def test_the_web_app_dashboard_reads_only_the_orders_apis_own_container():
    """The app's series as the agent labels them: its job, namespace and container (a second app exposing the
    same metric names must not be summed in), in every selector (a ratio's numerator and denominator)."""
    app = {("job", "=", "orders-api"), ("namespace", "=", "orders"), ("container", "=", "orders-api")}
    for uid, title, expr in panel_queries(all_dashboards()):
        if uid == "eks-obs-webapp":
            for metric, found in each_selector(expr):
                assert app <= found, (title, metric)


# The columns of each table: the labels its one instant query keeps (None: the series' own labels).
TABLE_COLUMNS = {
    ("eks-obs-cluster", "Volume claims: requested size and storage class"): None,
    ("eks-obs-nodes", "Kernel versions"): None,
    ("eks-obs-workloads", "Pods: node, IP and owner"): None,
    ("eks-obs-webapp", "Running versions"): {"version", "revision"},
    ("eks-obs-agent", "Agent version"): {"version"},
}


def test_each_table_shows_its_columns():
    tables = {
        (model["uid"], panel["title"]): panel["targets"][0]["expr"]
        for model in all_dashboards()
        for panel in model["panels"]
        if panel["type"] == "table"
    }
    assert list(tables) == list(TABLE_COLUMNS)
    for key, expr in tables.items():
        columns = TABLE_COLUMNS[key]
        expected = None if columns is None else frozenset(columns)
        assert output_labels(promql_parser.parse(parsable(expr))) == expected, key


# The panels whose aggregation is not a sum: a maximum for "slowest"/"oldest", a count where the panel counts
# series (CPUs are counted by their idle series, pods by their info series, versions by their build info).
NOT_SUMS = {
    ("eks-obs-cluster", "Nodes"): ["count"],
    ("eks-obs-cluster", "Alerts firing"): ["count"],
    ("eks-obs-cluster", "Alerts firing, by severity"): ["count"],
    ("eks-obs-nodes", "CPU utilisation"): ["avg"],  # the mean over a node's CPUs of their idle share
    ("eks-obs-nodes", "Load per CPU (1m)"): ["count"],  # the load over the node's CPUs, counted
    ("eks-obs-nodes", "Kubelets"): ["count"],
    ("eks-obs-workloads", "Pods per node"): ["count"],
    ("eks-obs-workloads", "Pods per Deployment"): ["count"],
    ("eks-obs-workloads", "StatefulSets: mid-update (current revision is not the update revision)"): [
        "count"
    ],
    ("eks-obs-webapp", "Running versions"): ["count"],
    ("eks-obs-postgres", "Up"): ["min"],  # down if any instance is
    ("eks-obs-postgres", "Oldest transaction"): ["max"],
    ("eks-obs-agent", "Active series"): ["sum", "max"],  # one replica per shard (agent.once_per_shard)
    ("eks-obs-agent", "Remote-write lag"): ["max", "max", "max", "max"],  # the stat and the graph
    ("eks-obs-agent", "Last config reload ok"): ["min"],  # failed if any agent's reload did
    ("eks-obs-agent", "Shards: current, desired, max"): ["max", "max", "max"],
    ("eks-obs-agent", "Slowest scrape, by job"): ["max"],
    ("eks-obs-agent", "Agent version"): ["count"],
}


def aggregations(expr: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if type(node).__name__ == "AggregateExpr":
            found.append(str(node.op))
        for child in ("expr", "lhs", "rhs", "vector_selector"):
            if hasattr(node, child) and getattr(node, child) is not None:
                walk(getattr(node, child))
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(promql_parser.parse(expr))
    return found


def test_panels_that_are_not_sums_say_which_aggregation_they_are():
    seen: dict[tuple[str, str], list[str]] = {}
    for uid, title, _, expr in platform_targets():
        ops = aggregations(expr)
        if set(ops) - {"sum"}:
            seen.setdefault((uid, title), []).extend(ops)
    assert seen == NOT_SUMS


# The matchers a panel's meaning rests on, from the exporters' documentation: kube-state-metrics (a node's
# Ready condition not "true": false or unknown; a pod's `kube_pod_status_ready{condition="false"}`; a pod
# owned by a ReplicaSet owned by a Deployment; requests, limits, allocatable and capacity per `resource`),
# node-exporter (a CPU's idle mode), the API server's and the app's 5xx codes, Prometheus' firing ALERTS.
MEANINGS = {
    ("eks-obs-cluster", "Nodes not ready"): {("kube_node_status_condition", "condition", "=", "Ready"),
                                             ("kube_node_status_condition", "status", "!=", "true")},
    ("eks-obs-cluster", "Alerts firing"): {("ALERTS", "alertstate", "=", "firing")},
    ("eks-obs-cluster", "5xx share"): {("apiserver_request_total", "code", "=~", "5..")},
    ("eks-obs-cluster", "Latency p99 by verb (without WATCH and CONNECT)"): {
        ("apiserver_request_sli_duration_seconds_bucket", "verb", "!~", "WATCH|CONNECT")},
    ("eks-obs-cluster", "CPU: requests, allocatable, capacity"): {
        ("kube_pod_container_resource_requests", "resource", "=", "cpu"),
        ("kube_node_status_allocatable", "resource", "=", "cpu"),
        ("kube_node_status_capacity", "resource", "=", "cpu")},
    ("eks-obs-cluster", "Memory: requests, allocatable, capacity"): {
        ("kube_pod_container_resource_requests", "resource", "=", "memory"),
        ("kube_node_status_allocatable", "resource", "=", "memory"),
        ("kube_node_status_capacity", "resource", "=", "memory")},
    ("eks-obs-nodes", "CPU utilisation"): {("node_cpu_seconds_total", "mode", "=", "idle")},
    ("eks-obs-nodes", "Load per CPU (1m)"): {("node_cpu_seconds_total", "mode", "=", "idle")},
    ("eks-obs-workloads", "CPU usage against requests and limits"): {
        ("kube_pod_container_resource_requests", "resource", "=", "cpu"),
        ("kube_pod_container_resource_limits", "resource", "=", "cpu")},
    ("eks-obs-workloads", "Memory working set against requests and limits"): {
        ("kube_pod_container_resource_requests", "resource", "=", "memory"),
        ("kube_pod_container_resource_limits", "resource", "=", "memory")},
    ("eks-obs-workloads", "Pods not ready"): {("kube_pod_status_ready", "condition", "=", "false")},
    ("eks-obs-workloads", "Pods per Deployment"): {
        ("kube_pod_owner", "owner_kind", "=", "ReplicaSet"),
        ("kube_replicaset_owner", "owner_kind", "=", "Deployment")},
    ("eks-obs-webapp", "5xx share by route"): {("http_requests_total", "status", "=~", "5..")},
}  # fmt: skip


@pytest.mark.parametrize(("uid", "title"), list(MEANINGS), ids=[f"{u}:{t}" for u, t in MEANINGS])
def test_a_panel_selects_what_its_title_means(uid, title):
    found = {
        m for u, t, expr in panel_queries(all_dashboards()) if (u, t) == (uid, title) for m in matchers(expr)
    }
    assert MEANINGS[(uid, title)] <= found


def test_the_web_app_dashboard_links_to_the_orders_apis_slo_dashboard():
    (webapp,) = [model for model in all_dashboards() if model["uid"] == "eks-obs-webapp"]
    assert [(link["title"], link["url"], link["type"]) for link in webapp["links"]] == [
        ("SLOs", "/d/svc-orders-api", "link")
    ]
    assert (
        webapp["links"][0]["tooltip"]
        == "The orders API's service dashboard: error budgets, burn rates, alerts"
    )
