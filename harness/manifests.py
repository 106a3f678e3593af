"""The platform's charts, synthesized with cdk8s, and the pods and nodes a cluster would run from them.

Nothing here is written by hand from the charts: pods are built from the synthesized pod templates
(labels, annotations, containers and ports as they would be applied), with only what the cluster adds
made up (pod names, node names, IPs, status). Variants for edge cases are derived from those pods.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import cdk8s

from config.monitoring import MonitoringConfig
from config.workloads import WorkloadsConfig
from k8s.app_namespace_chart import AppNamespaceChart
from k8s.monitoring.kube_state_metrics_chart import KubeStateMetricsChart
from k8s.monitoring.monitoring_namespace_chart import MonitoringNamespaceChart
from k8s.monitoring.node_exporter_chart import NodeExporterChart
from k8s.monitoring.prometheus_agent_chart import PrometheusAgentChart, ShardConfig
from k8s.postgres_chart import PostgresChart
from k8s.webapp_chart import WebappChart
from observability import names

Manifest = dict[str, Any]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
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


def _suffix(seed: str, length: int) -> str:
    """A stable pod-name suffix from Kubernetes's alphabet (no vowels)."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def pod(
    workload: Manifest,
    *,
    node: str,
    ip: str,
    ordinal: int = 0,
    phase: str = "Running",
    ready: bool = True,
) -> Manifest:
    """The Pod a controller creates from `workload`'s template, as the API server would return it."""
    kind, name = workload["kind"], workload["metadata"]["name"]
    namespace = workload["metadata"]["namespace"]
    template = workload["spec"]["template"]
    if kind == "StatefulSet":
        pod_name, owner = f"{name}-{ordinal}", ("StatefulSet", name)
    elif kind == "Deployment":
        replica_set = f"{name}-{_suffix(name, 9)}"
        pod_name, owner = f"{replica_set}-{_suffix(f'{name}{ordinal}', 5)}", ("ReplicaSet", replica_set)
    else:
        pod_name, owner = f"{name}-{_suffix(f'{name}{node}', 5)}", (kind, name)
    metadata = copy.deepcopy(template.get("metadata", {}))
    metadata |= {
        "name": pod_name,
        "namespace": namespace,
        "uid": f"uid-{_suffix(pod_name, 12)}",
        "ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}],
    }
    return {
        "kind": "Pod",
        "metadata": metadata,
        "spec": copy.deepcopy(template["spec"]) | {"nodeName": node},
        "status": {
            "phase": phase,
            "podIP": ip,
            "hostIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def renamed(pod_: Manifest, name: str, ip: str | None = None) -> Manifest:
    """Another pod of the same workload (a new name, and a new IP if given)."""
    result = copy.deepcopy(pod_)
    result["metadata"]["name"] = name
    if ip:
        result["status"] |= {"podIP": ip, "hostIP": ip}
    return result


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


def opted_out(pod_: Manifest, name: str) -> Manifest:
    """The pod as a team would opt it out: same pod, `prometheus.io/scrape: "false"`."""
    return with_annotations(renamed(pod_, name), {SCRAPE: "false"})


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


def with_phase(pod_: Manifest, phase: str) -> Manifest:
    result = copy.deepcopy(pod_)
    result["status"]["phase"] = phase
    return result


def node(name: str, ip: str, kubelet_port: int = 10250) -> Manifest:
    """A Node as an EKS node group registers it (the parts Kubernetes discovery reads)."""
    return {
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "us-east-1a"},
            "annotations": {},
        },
        "spec": {"providerID": f"aws:///us-east-1a/i-{_suffix(name, 17)}"},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
        },
    }


def kubernetes_service(endpoint_ips: list[str]) -> tuple[Manifest, Manifest]:
    """`default/kubernetes` and its EndpointSlice: the API server addresses (EKS publishes two). The API
    server maintains this slice itself (no selector, no Pods): endpoints with only the `ready` condition
    and no target reference."""
    service = {
        "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver"}},
        "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]},
    }
    endpoint_slice = {
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in endpoint_ips],
        "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
    }
    return service, endpoint_slice


def terminating(pod_: Manifest) -> Manifest:
    """A copy being deleted (`deletionTimestamp` set): the kubelet stops it, the pod is not ready."""
    result = copy.deepcopy(pod_)
    result["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    result["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
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


NODE_A = "ip-10-40-1-10.ec2.internal"
NODE_B = "ip-10-40-2-20.ec2.internal"


def cluster_pods(m: Manifests) -> dict[str, Manifest]:
    """One pod of each of our workloads on one node, keyed by workload name."""
    ips = {
        names.WEBAPP: "10.40.1.31",
        names.POSTGRES: "10.40.1.32",
        names.NODE_EXPORTER: "10.40.1.10",  # host network: the node's IP
        names.KUBE_STATE_METRICS: "10.40.1.33",
        names.PROMETHEUS_AGENT: "10.40.1.36",
    }
    return {
        w["metadata"]["name"]: pod(w, node=NODE_A, ip=ips[w["metadata"]["name"]])
        for w in m.workloads()
        if w["metadata"]["name"] in ips
    }
