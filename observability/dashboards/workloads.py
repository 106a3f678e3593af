"""Workloads: per-pod CPU (against requests and limits, and throttling), memory, OOM kills and network;
pods by phase, readiness and restarts; rollouts of Deployments, StatefulSets and DaemonSets; autoscaling."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from observability.dashboards.common import SCOPE, by, dashboard, graph, listing, model, rate, section, sel

UID = "eks-obs-workloads"
_NS = {"namespace": "~$namespace"}
_CONTAINERS = {**_NS, "container": "!"}  # cAdvisor's per-container cgroups, not the pod's total
_POD = "{{namespace}}/{{pod}}"


def _pods(expr: str) -> tuple[str, str]:
    return (by("namespace, pod", expr), _POD)


def _behind(kind: str) -> tuple[str, str]:
    """Generations of a workload's spec its controller has not yet observed."""
    spec, observed = (
        sel(f"kube_{kind}_metadata_generation", **_NS),
        sel(f"kube_{kind}_status_observed_generation", **_NS),
    )
    return (f"{spec} - {observed}", f"{{{{namespace}}}}/{{{{{kind}}}}} generations behind")


def _deployments() -> str:
    """Pods per Deployment: pod -> ReplicaSet (kube_pod_owner) -> Deployment (kube_replicaset_owner)."""
    pods = sel("kube_pod_owner", owner_kind="ReplicaSet", **_NS)
    replicasets = sel("kube_replicaset_owner", owner_kind="Deployment", **_NS)
    return (
        f'count by (namespace, deployment) (label_replace({pods}, "replicaset", "$1", "owner_name", "(.*)")'
        f" * on (namespace, replicaset) group_left (deployment)"
        f' label_replace({replicasets}, "deployment", "$1", "owner_name", "(.*)"))'
    )


def build(ds: DataSourceRef) -> dict[str, Any]:
    namespace = (
        QueryVariable("namespace")
        .label("Namespace")
        .datasource(ds)
        .query(f"label_values(kube_pod_info{{{SCOPE}}}, namespace)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
    )
    board = dashboard(uid=UID, title="EKS / Workloads", ds=ds, description=__doc__ or "").with_variable(
        namespace
    )
    throttled = (
        f"{by('namespace, pod', rate('container_cpu_cfs_throttled_periods_total', **_CONTAINERS))}"
        f" / {by('namespace, pod', rate('container_cpu_cfs_periods_total', **_CONTAINERS))}"
    )
    board = section(
        board,
        "Resources",
        ds,
        graph(
            "CPU usage against requests and limits",
            "short",
            _pods(rate("container_cpu_usage_seconds_total", **_CONTAINERS)),
            (
                by("namespace, pod", sel("kube_pod_container_resource_requests", resource="cpu", **_NS)),
                f"{_POD} request",
            ),
            (
                by("namespace, pod", sel("kube_pod_container_resource_limits", resource="cpu", **_NS)),
                f"{_POD} limit",
            ),
        ),
        graph("CPU throttled share", "percentunit", (throttled, _POD)),
        graph(
            "Memory working set against requests and limits",
            "bytes",
            _pods(sel("container_memory_working_set_bytes", **_CONTAINERS)),
            (
                by("namespace, pod", sel("kube_pod_container_resource_requests", resource="memory", **_NS)),
                f"{_POD} request",
            ),
            (
                by("namespace, pod", sel("kube_pod_container_resource_limits", resource="memory", **_NS)),
                f"{_POD} limit",
            ),
        ),
        graph(
            "Memory RSS and page cache",
            "bytes",
            (by("namespace, pod", sel("container_memory_rss", **_CONTAINERS)), f"{_POD} rss"),
            (by("namespace, pod", sel("container_memory_cache", **_CONTAINERS)), f"{_POD} cache"),
        ),
        graph(
            "OOM kills",
            "short",
            _pods(f"increase({sel('container_oom_events_total', **_CONTAINERS)}[$__rate_interval])"),
        ),
        graph(
            "Network throughput",
            "Bps",
            (by("namespace, pod", rate("container_network_receive_bytes_total", **_NS)), f"{_POD} received"),
            (by("namespace, pod", rate("container_network_transmit_bytes_total", **_NS)), f"{_POD} sent"),
        ),
        graph(
            "Network drops",
            "pps",
            (
                by("namespace, pod", rate("container_network_receive_packets_dropped_total", **_NS)),
                f"{_POD} in",
            ),
            (
                by("namespace, pod", rate("container_network_transmit_packets_dropped_total", **_NS)),
                f"{_POD} out",
            ),
        ),
    )
    board = section(
        board,
        "Pods",
        ds,
        graph("Pods by phase", "short", (by("phase", sel("kube_pod_status_phase", **_NS)), "{{phase}}")),
        graph("Pods not ready", "short", _pods(sel("kube_pod_status_ready", condition="false", **_NS))),
        graph(
            "Container restarts",
            "short",
            _pods(f"increase({sel('kube_pod_container_status_restarts_total', **_NS)}[$__rate_interval])"),
        ),
        graph("Pods per node", "short", (by("node", sel("kube_pod_info", **_NS), "count"), "{{node}}")),
        graph("Pods per Deployment", "short", (_deployments(), "{{namespace}}/{{deployment}}")),
    )
    current = sel("kube_statefulset_status_current_revision", **_NS)
    update = sel("kube_statefulset_status_update_revision", **_NS)
    board = section(
        board,
        "Rollouts and autoscaling",
        ds,
        graph(
            "Deployments: generations not yet observed",
            "short",
            _behind("deployment"),
        ),
        graph(
            "StatefulSets: mid-update (current revision is not the update revision)",
            "short",
            (
                f"count by (namespace, statefulset) ({current}"
                f" unless on (namespace, statefulset, revision) {update})",
                "{{namespace}}/{{statefulset}}",
            ),
            _behind("statefulset"),
        ),
        graph(
            "DaemonSets: desired, available, updated, misscheduled",
            "short",
            (sel("kube_daemonset_status_desired_number_scheduled", **_NS), "{{daemonset}} desired"),
            (sel("kube_daemonset_status_number_available", **_NS), "{{daemonset}} available"),
            (sel("kube_daemonset_status_updated_number_scheduled", **_NS), "{{daemonset}} updated"),
            (sel("kube_daemonset_status_number_misscheduled", **_NS), "{{daemonset}} misscheduled"),
        ),
        graph(
            "Autoscalers: current and desired replicas within min and max",
            "short",
            (
                sel("kube_horizontalpodautoscaler_status_current_replicas", **_NS),
                "{{horizontalpodautoscaler}} current",
            ),
            (
                sel("kube_horizontalpodautoscaler_status_desired_replicas", **_NS),
                "{{horizontalpodautoscaler}} desired",
            ),
            (sel("kube_horizontalpodautoscaler_spec_min_replicas", **_NS), "{{horizontalpodautoscaler}} min"),
            (sel("kube_horizontalpodautoscaler_spec_max_replicas", **_NS), "{{horizontalpodautoscaler}} max"),
        ),
        listing("Pods: node, IP and owner", sel("kube_pod_info", **_NS)),
    )
    return model(board)
