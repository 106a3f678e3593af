"""The platform's charts, synthesized with cdk8s, and variants of their pods for edge cases.

Nothing here is written by hand from the charts: the simulated cluster (harness/cluster.py) makes the pods
from the synthesized pod templates (labels, annotations, containers and ports as they would be applied);
the variants here change one thing of such a pod (annotations, ports, containers, deletion).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import cdk8s

from config.monitoring import MonitoringConfig
from config.workloads import WorkloadsConfig
from harness.cluster import WORKLOAD_KINDS
from k8s.app_namespace_chart import AppNamespaceChart
from k8s.monitoring.kube_state_metrics_chart import KubeStateMetricsChart
from k8s.monitoring.monitoring_namespace_chart import MonitoringNamespaceChart
from k8s.monitoring.node_exporter_chart import NodeExporterChart
from k8s.monitoring.prometheus_agent_chart import PrometheusAgentChart, ShardConfig
from k8s.postgres_chart import PostgresChart
from k8s.webapp_chart import WebappChart

Manifest = dict[str, Any]
SCRAPE = "prometheus.io/scrape"


@dataclasses.dataclass(frozen=True)
class Manifests:
    objects: tuple[Manifest, ...]

    def get(self, kind: str, name: str, namespace: str | None = None) -> Manifest:
        matches = [
            o
            for o in self.objects
            if o["kind"] == kind
            and o["metadata"]["name"] == name
            and namespace in (None, o["metadata"].get("namespace"))
        ]
        assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
        return copy.deepcopy(matches[0])

    def workloads(self) -> list[Manifest]:
        return [copy.deepcopy(o) for o in self.objects if o["kind"] in WORKLOAD_KINDS]


def synthesize(*, agent_replicas: int = MonitoringConfig().agent_replicas) -> Manifests:
    """Every chart whose pods the agent scrapes (or must not scrape), as applied to the cluster, after the
    namespaces (with their Pod Security labels) and the priority class those pods need; the agent with
    `agent_replicas` pods."""
    app = cdk8s.App()
    workloads = WorkloadsConfig()
    charts: list[cdk8s.Chart] = [
        MonitoringNamespaceChart(app, "monitoring-namespace"),
        # Its SecretProviderClass is an add-on's kind (harness.cluster.ADDON_KINDS): not applied locally.
        AppNamespaceChart(
            app, "app-namespace", db_secret_arn="arn:aws:secretsmanager:us-east-1:111111111111:secret:x"
        ),
        WebappChart(
            app,
            "webapp",
            image="orders-api:test",
            version="test",
            revision="test",
            workloads=workloads,
            load_balancer_subnet_ids=["subnet-a"],
            secret_provider_class="x",
        ),
        PostgresChart(
            app,
            "postgres",
            resources=workloads.postgres_resources,
            volume_gib=workloads.postgres_volume_gib,
            secret_provider_class="x",
        ),
        NodeExporterChart(app, "node-exporter"),
        KubeStateMetricsChart(app, "kube-state-metrics"),
        # Its pod, for discovery: the config it would mount does not matter here.
        PrometheusAgentChart(
            app,
            "prometheus-agent",
            shards=[ShardConfig(config_yaml="{}", checksum="test")],
            replicas=agent_replicas,
            resources=MonitoringConfig().agent_resources,
            wal_volume_gib=MonitoringConfig().agent_wal_volume_gib,
        ),
    ]
    return Manifests(tuple(obj for chart in charts for obj in chart.to_json()))


def with_annotations(pod_: Manifest, annotations: Mapping[str, str | None]) -> Manifest:
    """A copy with annotations set (None removes one)."""
    result = copy.deepcopy(pod_)
    current = result["metadata"].setdefault("annotations", {})
    for key, value in annotations.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    return result


def without_ports(pod_: Manifest) -> Manifest:
    result = copy.deepcopy(pod_)
    for container in result["spec"]["containers"]:
        container.pop("ports", None)
    return result


def _container(pod_: Manifest, name: str, image: str) -> Manifest:
    """A container without ports, with the pod's first container's security context (so a namespace that
    enforces Pod Security `restricted` admits it as it admits that one)."""
    container: Manifest = {"name": name, "image": image}
    first = pod_["spec"]["containers"][0]
    if "securityContext" in first:
        container["securityContext"] = copy.deepcopy(first["securityContext"])
    return container


def with_sidecar(pod_: Manifest, name: str = "log-shipper") -> Manifest:
    """A copy with one more container that declares no ports."""
    result = copy.deepcopy(pod_)
    result["spec"]["containers"].append(_container(pod_, name, "example/sidecar:1"))
    return result


def with_init_container(pod_: Manifest, name: str = "migrate") -> Manifest:
    result = copy.deepcopy(pod_)
    result["spec"].setdefault("initContainers", []).append(_container(pod_, name, "example/init:1"))
    return result


def annotated_service(service: Manifest, port: int) -> Manifest:
    """A copy of `service` that opts in through the service annotations."""
    result = copy.deepcopy(service)
    result["metadata"]["annotations"] = {
        SCRAPE: "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    return result
