"""One simulated cluster (harness/cluster.py) per test session, with every manifest the stacks apply."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import environment_config
from harness.cluster import ADDON_KINDS, ApiError, SimulatedCluster, against
from harness.kube_state_metrics import KubeStateMetrics
from harness.stack import Prometheus, for_local_receiver, generated_config
from tests.unit.conftest import KUBERNETES_RESOURCE, STACK_ROLES, Synthesized, render_tokens, synthesize

Manifest = dict[str, Any]
SCRAPE_INTERVAL_SECONDS = 5


@dataclasses.dataclass(frozen=True)
class Applied:
    """What the stacks' manifests did to the cluster, in the order they were applied."""

    objects: tuple[tuple[str, Manifest], ...]  # (the manifest resource's stack/logical id, object)
    answers: tuple[Manifest | ApiError, ...]  # the API server's answer to each
    skipped: tuple[Manifest, ...]  # of ADDON_KINDS

    def workloads(self) -> list[Manifest]:
        return [o for _, o in self.objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]


def _references(value: Any) -> set[str]:
    """The logical ids `value` refers to with Ref or Fn::GetAtt (CloudFormation orders by those too)."""
    if isinstance(value, dict):
        found = set()
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            else:
                found |= _references(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _apply_order(resources: dict[str, Any]) -> list[str]:
    """The stack's Kubernetes manifest resources in an order CloudFormation may create them: each after
    everything it depends on (DependsOn, Ref, GetAtt, transitively), otherwise in template order."""
    direct = {
        logical_id: set(_as_list(r.get("DependsOn", []))) | _references(r.get("Properties", {}))
        for logical_id, r in resources.items()
    }
    closure: dict[str, set[str]] = {}

    def dependencies(logical_id: str) -> set[str]:
        if logical_id not in closure:
            closure[logical_id] = set()
            for dependency in direct.get(logical_id, set()) & resources.keys():
                closure[logical_id] |= {dependency} | dependencies(dependency)
        return closure[logical_id]

    pending = [lid for lid, r in resources.items() if r["Type"] == KUBERNETES_RESOURCE]
    ordered: list[str] = []
    while pending:
        ready = next(lid for lid in pending if not (dependencies(lid) & set(pending)))
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def manifests_in_apply_order(synthesized: Synthesized) -> list[tuple[str, Manifest]]:
    """Every Kubernetes object the stacks apply, stack by stack in deployment order, each manifest's
    objects in their own order (one `kubectl apply` of the list), tokens rendered as `<token>`."""
    objects = []
    for role in STACK_ROLES:
        resources = synthesized.templates[role]["Resources"]
        for logical_id in _apply_order(resources):
            for obj in json.loads(render_tokens(resources[logical_id]["Properties"]["Manifest"])):
                objects.append((f"{role}/{logical_id}", obj))
    return objects


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(environment_config("dev"), Path(tmp_path_factory.mktemp("cdk-dev")))


@pytest.fixture(scope="session")
def cluster() -> Iterator[SimulatedCluster]:
    with SimulatedCluster() as simulated:
        yield simulated


@pytest.fixture(scope="session")
def applied(cluster: SimulatedCluster, dev: Synthesized) -> Applied:
    """The dev environment's manifests, server-side applied in the stacks' order; then each namespace's
    `default` service account, once the service-account controller has added it."""
    objects: list[tuple[str, Manifest]] = []
    answers: list[Manifest | ApiError] = []
    skipped: list[Manifest] = []
    for source, obj in manifests_in_apply_order(dev):
        if (obj["apiVersion"], obj["kind"]) in ADDON_KINDS:
            skipped.append(obj)
            continue
        objects.append((source, obj))
        try:
            answers.append(cluster.apply(obj))
        except ApiError as error:
            answers.append(error)
    for _, obj in objects:
        if obj["kind"] == "Namespace":
            cluster.wait_default_service_account(obj["metadata"]["name"])
    return Applied(objects=tuple(objects), answers=tuple(answers), skipped=tuple(skipped))


@pytest.fixture(scope="session")
def running_pods(cluster: SimulatedCluster, applied: Applied) -> list[Manifest]:
    """The pods the workloads' real controllers created from the applied templates (through a Deployment's
    ReplicaSet; a StatefulSet's with its claims), admitted, placed by the scheduler and made Running by kwok
    (ClusterError if a workload does not roll out)."""
    return [pod for workload in applied.workloads() for pod in cluster.run_workload(workload)]


@pytest.fixture(scope="session")
def kube_state_metrics(
    cluster: SimulatedCluster, running_pods: list[Manifest], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeStateMetrics]:
    """The real kube-state-metrics for its pod: the chart's arguments, its own service account's token, the
    pod's IP (where the agent's discovery finds it)."""
    (pod,) = [
        p
        for p in running_pods
        if p["metadata"]["labels"].get("app.kubernetes.io/name") == "kube-state-metrics"
    ]
    with KubeStateMetrics(
        cluster=cluster, pod=pod, workdir=Path(tmp_path_factory.mktemp("kube-state-metrics"))
    ) as running:
        yield running


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Prometheus at the cluster's release accepting the agent's remote writes (AMP's stand-in)."""
    process = Prometheus.receiver(Path(tmp_path_factory.mktemp("receiver")))
    process.start_ready()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def agent(
    cluster: SimulatedCluster,
    running_pods: list[Manifest],
    receiver: Prometheus,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    """The agent with the generated configuration against the simulated cluster (`against`), as its own
    service account (a TokenRequest token), writing to the receiver."""
    workdir = Path(tmp_path_factory.mktemp("agent"))
    token = workdir / "token"
    token.write_text(cluster.service_account_token(namespace="monitoring", name="prometheus-agent"))
    config = against(
        generated_config(cluster_name="sim", scrape_interval_seconds=SCRAPE_INTERVAL_SECONDS),
        cluster=cluster,
        token_file=token,
    )
    # The chart's arguments (k8s/monitoring/prometheus_agent_chart.py), with local paths and address.
    process = Prometheus.agent(
        workdir,
        yaml.safe_dump(for_local_receiver(config, receiver.remote_write_url)),
    )
    process.start_ready()
    try:
        yield process
    finally:
        process.stop()
