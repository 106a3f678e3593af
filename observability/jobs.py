"""The scrape jobs of the Prometheus agent, by name: what alerts (`up{job=...}`), dashboards and the cost
estimate refer to. The job table (selectors, kept series, limits) is built around these names."""

from __future__ import annotations

APISERVER = "apiserver"
KUBELET = "kubelet"
CADVISOR = "cadvisor"
NODE_EXPORTER = "node-exporter"
KUBE_STATE_METRICS = "kube-state-metrics"
PROMETHEUS_AGENT = "prometheus-agent"
PODS = "pods"
SERVICE_ENDPOINTS = "service-endpoints"
JOBS: tuple[str, ...] = (
    APISERVER,
    KUBELET,
    CADVISOR,
    NODE_EXPORTER,
    KUBE_STATE_METRICS,
    PROMETHEUS_AGENT,
    PODS,
    SERVICE_ENDPOINTS,
)
