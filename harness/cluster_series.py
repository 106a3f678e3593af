"""What kube-state-metrics and the API server cost, measured on a simulated cluster (harness/cluster.py):
the platform's charts applied, their workloads run by the real controllers, the real kube-state-metrics on
its pod's IP, and two agents (Prometheus at the cluster's release, the generated configuration with its
real Kubernetes discovery; one without its keep-lists) writing to a receiver. Counted there, per job and,
for kube-state-metrics, per kind of object the series describe, next to how many objects of each kind the
cluster holds; `make cost` scales them to its reference cluster."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from config.platform import CapacityMode
from harness import manifests
from harness.cluster import WORKLOAD_KINDS, SimulatedCluster, against, wait_until, with_apiserver_target
from harness.kube_state_metrics import KubeStateMetrics
from harness.postgres import free_port
from harness.stack import (
    HOST,
    PROMETHEUS,
    Prometheus,
    for_local_receiver,
    generated_config,
    with_cluster_label,
    without_keep_lists,
)
from k8s.app_namespace_chart import AppNamespaceChart
from k8s.monitoring.kube_state_metrics_chart import RESOURCES_BY_GROUP
from k8s.monitoring.monitoring_namespace_chart import MonitoringNamespaceChart
from k8s.storage_chart import StorageChart
from observability import jobs, names
from observability.catalog import SYNTHETIC_SERIES

Manifest = dict[str, Any]
INTERVAL_SECONDS = 5
# Kinds an EKS add-on defines (the Secrets Store CSI driver's), not served by a bare API server.
ADDON_KINDS = frozenset({"SecretProviderClass"})


@dataclasses.dataclass(frozen=True)
class ClusterSeries:
    objects: Mapping[str, int]  # kube-state-metrics resource (its --resources name) -> objects in the cluster
    ksm_kept: Mapping[str, int]  # resource -> series, keep-list applied
    ksm_all: Mapping[str, int]  # resource -> series, everything it exposes
    apiserver_kept: int  # series of the one API server, synthetic ones included
    apiserver_all: int


def resource_of(series: str) -> str | None:
    """The kube-state-metrics resource a series describes (`kube_<kind>_...`, e.g. `kube_pod_info` ->
    `pods`), None for the scraper's synthetic series."""
    if series in SYNTHETIC_SERIES:
        return None
    for resource in (r for group in RESOURCES_BY_GROUP.values() for r in group):
        singular = resource[:-2] if resource.endswith("sses") else resource[:-1]
        if series.startswith(f"kube_{singular}_"):
            return resource
    raise ValueError(f"{series}: not a series of a kube-state-metrics resource")


def _platform_objects() -> list[Manifest]:
    """The platform's charts (namespaces, storage classes, workloads), as the stacks apply them."""
    app = cdk8s.App()
    charts = [
        AppNamespaceChart(app, "app-namespace", db_secret_arn="arn:aws:secretsmanager:us-east-1:1:secret:x"),
        MonitoringNamespaceChart(app, "monitoring-namespace"),
        StorageChart(app, "storage", capacity_mode=CapacityMode.NODEGROUP),
    ]
    objects = [obj for chart in charts for obj in chart.to_json()] + list(manifests.synthesize().objects)
    defined = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    used = {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")}
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in sorted(used - defined)
    ]
    return namespaces + [o for o in objects if o["kind"] not in ADDON_KINDS]


def _objects(cluster: SimulatedCluster) -> dict[str, int]:
    counts = {}
    for group, resources in RESOURCES_BY_GROUP.items():
        prefix = (
            "/api/v1"
            if not group
            else f"/apis/{cluster.request('GET', f'/apis/{group}')['preferredVersion']['groupVersion']}"
        )
        for resource in resources:
            counts[resource] = len(cluster.request("GET", f"{prefix}/{resource}")["items"])
    return counts


def _prometheus(name: str, workdir: Path, config: Mapping[str, Any], *flags: str) -> Prometheus:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(dict(config)))
    port = free_port()
    argv = [
        PROMETHEUS,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--web.listen-address={HOST}:{port}",
        *flags,
    ]
    process = Prometheus(name, argv, workdir / f"{name}.log", port)
    try:
        process.start_ready()
    except BaseException:
        process.stop()
        raise
    return process


def measure(workdir: Path) -> ClusterSeries:
    platform = _platform_objects()
    with SimulatedCluster() as cluster:
        for obj in platform:
            cluster.apply(obj)
            if obj["kind"] == "Namespace":
                cluster.wait_default_service_account(obj["metadata"]["name"])
        pods = [pod for obj in platform if obj["kind"] in WORKLOAD_KINDS for pod in cluster.run_workload(obj)]
        (ksm_pod,) = [
            p for p in pods if p["metadata"]["labels"].get(jobs.APP_LABEL) == names.KUBE_STATE_METRICS
        ]
        objects = _objects(cluster)
        with KubeStateMetrics(cluster=cluster, pod=ksm_pod, workdir=workdir / "kube-state-metrics"):
            return _scraped(cluster, workdir, objects)


def _scraped(cluster: SimulatedCluster, workdir: Path, objects: dict[str, int]) -> ClusterSeries:
    receiver = _prometheus(
        "receiver", workdir / "receiver", {}, f"--storage.tsdb.path={workdir / 'receiver' / 'tsdb'}",
        "--web.enable-remote-write-receiver",
    )  # fmt: skip
    agents = []
    try:
        token = workdir / "token"
        token.write_text(
            cluster.service_account_token(namespace=names.MONITORING_NAMESPACE, name=names.PROMETHEUS_AGENT)
        )
        config = with_apiserver_target(
            against(
                generated_config(cluster_name="keep", scrape_interval_seconds=INTERVAL_SECONDS),
                cluster=cluster,
                token_file=token,
            ),
            cluster=cluster,
        )
        variants = {"keep": config, "all": without_keep_lists(with_cluster_label(config, "all"))}
        for label, variant in variants.items():
            agents.append(
                _prometheus(
                    f"agent-{label}",
                    workdir / f"agent-{label}",
                    for_local_receiver(variant, receiver.remote_write_url),
                    "--agent",
                    f"--storage.agent.path={workdir / f'agent-{label}' / 'wal'}",
                )
            )
        counts: dict[str, dict[tuple[str, str], int]] = {}
        measured_jobs = f"{jobs.KUBE_STATE_METRICS}|{jobs.APISERVER}"

        def settled() -> bool:
            now = {
                label: {
                    (r["metric"]["job"], r["metric"]["__name__"]): int(r["value"][1])
                    for r in receiver.query(
                        f'count by (job, __name__) ({{cluster="{label}", job=~"{measured_jobs}"}})'
                    )
                }
                for label in variants
            }
            done = now == counts and all(
                (jobs.APISERVER, "apiserver_request_total") in n
                and (jobs.KUBE_STATE_METRICS, "kube_pod_info") in n
                for n in now.values()
            )
            counts.clear()
            counts.update(now)
            return done

        if not wait_until(settled, timeout=300, interval=2 * INTERVAL_SECONDS):
            raise RuntimeError(f"series counts did not settle: {counts}")
    finally:
        for agent in agents:
            agent.stop()
        receiver.stop()

    def by_resource(label: str) -> dict[str, int]:
        result: dict[str, int] = {}
        for (job, name), n in counts[label].items():
            resource = resource_of(name) if job == jobs.KUBE_STATE_METRICS else None
            if resource is not None:
                result[resource] = result.get(resource, 0) + n
        return result

    def apiserver(label: str) -> int:
        return sum(n for (job, _), n in counts[label].items() if job == jobs.APISERVER)

    return ClusterSeries(
        objects=objects,
        ksm_kept=by_resource("keep"),
        ksm_all=by_resource("all"),
        apiserver_kept=apiserver("keep"),
        apiserver_all=apiserver("all"),
    )
