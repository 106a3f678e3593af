"""Cluster overview: the API server (RED, with kubernetes-mixin's latency SLO buckets), nodes, capacity
against requests, volumes, scrape targets and firing alerts."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel, single

UID = "eks-obs-cluster"
_FIRING = sel("ALERTS", alertstate="firing")
_REQUESTS = rate("apiserver_request_total")
_LATENCY = rate("apiserver_request_sli_duration_seconds_bucket", verb="!~WATCH|CONNECT")


def _resource(resource: str) -> tuple[tuple[str, str], ...]:
    """Requests against allocatable and capacity for one resource (cpu, memory)."""
    return (
        (f"sum({sel('kube_pod_container_resource_requests', resource=resource)})", "requests"),
        (f"sum({sel('kube_node_status_allocatable', resource=resource)})", "allocatable"),
        (f"sum({sel('kube_node_status_capacity', resource=resource)})", "capacity"),
    )


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Cluster overview", ds=ds, description=__doc__ or "")
    not_ready = sel("kube_node_status_condition", condition="Ready", status="!true")
    board = section(
        board,
        "Health",
        ds,
        single("Nodes", "short", f"count({sel('kube_node_info')})"),
        single("Nodes not ready", "short", f"sum({not_ready})"),
        single("Nodes cordoned", "short", f"sum({sel('kube_node_spec_unschedulable')})"),
        single("Alerts firing", "short", f"count({_FIRING}) or vector(0)"),
        graph("Scrape targets up, by job", "short", (by("job", sel("up")), "{{job}}")),
        graph("Alerts firing, by severity", "short", (by("severity", _FIRING, "count"), "{{severity}}")),
    )
    errors = rate("apiserver_request_total", code="~5..")
    mean = (
        f"sum({rate('apiserver_request_sli_duration_seconds_sum')})"
        f" / sum({rate('apiserver_request_sli_duration_seconds_count')})"
    )
    board = section(
        board,
        "API server",
        ds,
        graph("Requests by verb", "reqps", (by("verb", _REQUESTS), "{{verb}}")),
        graph("5xx share", "percentunit", (f"sum({errors}) / sum({_REQUESTS})", "5xx")),
        graph(
            "Latency p99 by verb (without WATCH and CONNECT)",
            "s",
            (f"histogram_quantile(0.99, {by('le, verb', _LATENCY)})", "{{verb}}"),
        ),
        graph("Mean latency", "s", (mean, "mean")),
        graph(
            "Requests in flight",
            "short",
            (by("request_kind", sel("apiserver_current_inflight_requests")), "{{request_kind}}"),
        ),
    )
    claims = (
        f"{sel('kube_persistentvolumeclaim_resource_requests_storage_bytes')}"
        f" * on (namespace, persistentvolumeclaim) group_left (storageclass)"
        f" {sel('kube_persistentvolumeclaim_info')}"
    )
    board = section(
        board,
        "Capacity and volumes",
        ds,
        graph("CPU: requests, allocatable, capacity", "short", *_resource("cpu")),
        graph("Memory: requests, allocatable, capacity", "bytes", *_resource("memory")),
        graph(
            "Volume claims by phase",
            "short",
            (by("phase", sel("kube_persistentvolumeclaim_status_phase")), "{{phase}}"),
        ),
        listing("Volume claims: requested size and storage class", claims),
    )
    return model(board)
