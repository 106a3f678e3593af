"""Target selection by the real Prometheus agent at the cluster's release, with its real Kubernetes
discovery: the generated config against a simulated cluster (harness/cluster.py) holding the charts' pods
and edge cases derived from them, created through the API server. The agent's own `/api/v1/targets` must
list exactly the targets the `relabel` re-implementation (the one the fast unit tests in
test_relabel_targets.py rely on) selects from what the agent discovered, with the same labels and URLs.

Nothing needs to answer the scrapes here. The pods and nodes have loopback addresses (closed ports), except
on a third node whose addresses are TEST-NET-2 ones (RFC 5737, routed nowhere): the API server refuses
loopback addresses in EndpointSlices, so the pods behind an annotated Service run there, and the real
EndpointSlice controller (harness/cluster.py's kube-controller-manager) writes their slice. The API server's
own published address is a TEST-NET-1 one (harness.cluster.ADVERTISE_ADDRESS).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import manifests as mf
from harness.cluster import PROMETHEUS as CLUSTER_PROMETHEUS
from harness.cluster import SimulatedCluster, SimulatedNode, against
from harness.cluster_stack import AGENT_ACCOUNT, apply_charts, loopback_nodes, pod_of, run_pods
from harness.manifests import Manifests
from harness.stack import Prometheus, for_local_receiver, generated_config, wait_until
from observability import names
from observability.render import scrape_config as sc
from tests.metrics.relabel import ScrapeTarget, relabel, targets_of
from webapp.orders_api import slo_contract

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

UNDECLARED_PORT = 9999
Manifest = dict[str, Any]
CONFIG = generated_config(cluster_name="edge", scrape_interval_seconds=5)
JOBS = {j["job_name"]: j for j in CONFIG["scrape_configs"]}
# The node of the pods behind the annotated Service (TEST-NET-2: EndpointSlices refuse loopback addresses).
NODE_C = SimulatedNode(name="kwok-node-c", ip="198.51.100.1", pod_cidr="198.51.100.128/25")
BEHIND = {"example.com/behind": "annotated-service"}  # the annotated Service's extra selector label
ANNOTATED_SERVICE = "postgres-annotated"


def edge_cases(cluster: SimulatedCluster, m: Manifests) -> list[Manifest]:
    """The workloads' pods, from their real controllers (node B's node-exporter annotated anyway), and bare
    variants of them: what a team's pod may look like, created from our templates. Returns them Running,
    with `finished` and `not_ready` pods' status then set as the kubelet would report it."""
    workloads = {w["metadata"]["name"]: w for w in m.workloads()}
    controlled = [pod for w in workloads.values() for pod in cluster.run_workload(w)]
    scrape_me = {mf.SCRAPE: "true", "prometheus.io/port": str(names.NODE_EXPORTER_PORT)}
    (node_exporter_b,) = [
        p
        for p in controlled
        if p["metadata"]["labels"].get(names.NAME_LABEL) == names.NODE_EXPORTER
        and p["spec"]["nodeName"] == cluster.nodes[1].name
    ]
    # Annotated anyway: still only its own job.
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{node_exporter_b['metadata']['namespace']}/pods/{node_exporter_b['metadata']['name']}",
        headers={"Content-Type": "application/merge-patch+json"},
        body={"metadata": {"annotations": scrape_me}},
    )
    ksm_telemetry = {mf.SCRAPE: "true", "prometheus.io/port": str(names.KUBE_STATE_METRICS_TELEMETRY_PORT)}
    app_annotations = names.scrape_annotations(port=slo_contract.APP_PORT, path=slo_contract.METRICS_PATH)

    def web(name: str) -> Manifest:
        return pod_of(cluster, workloads[names.WEBAPP], name=name)

    def legacy(name: str) -> Manifest:
        # An app without a service file opts in by annotations (the `pods` job).
        pod = mf.with_annotations(web(name), app_annotations)
        pod["metadata"]["labels"][names.NAME_LABEL] = "legacy-app"
        return pod

    postgres = workloads[names.POSTGRES]
    pods = [
        mf.with_annotations(
            pod_of(cluster, workloads[names.KUBE_STATE_METRICS], name="ksm-annotated"), ksm_telemetry
        ),
        legacy("legacy-app"),
        mf.with_annotations(legacy("legacy-app-opted-out"), {mf.SCRAPE: "false"}),
        mf.without_ports(legacy("legacy-app-no-ports")),
        mf.with_sidecar(mf.without_ports(legacy("legacy-app-no-ports-2"))),
        mf.with_init_container(legacy("legacy-app-init")),
        mf.with_annotations(legacy("legacy-app-undeclared"), {"prometheus.io/port": str(UNDECLARED_PORT)}),
        legacy("legacy-app-finished"),
        # The orders API by its own job: annotated anyway (still only its job), finished (not scraped).
        mf.with_annotations(web("orders-api-annotated"), app_annotations),
        web("orders-api-finished"),
        # Not `postgres-1`: the StatefulSet controller would adopt a pod named as its member and delete it.
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-standby"), {mf.SCRAPE: "false"}),
    ]
    # Behind an annotated Service on node C: two Postgres pods opted out of the annotation job (one not
    # ready), and one that opts in itself (the `pods` job scrapes it, the Service does not again).
    behind = [
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-svc-0"), {mf.SCRAPE: "false"}),
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-svc-1"), {mf.SCRAPE: "false"}),
        pod_of(cluster, postgres, name="postgres-svc-2"),
    ]
    for pod in behind:
        pod["metadata"]["labels"] |= BEHIND
        pod["spec"]["nodeName"] = NODE_C.name
    running = controlled + run_pods(cluster, pods + behind)
    for name in ("legacy-app-finished", "orders-api-finished"):
        set_status(cluster, names.APP_NAMESPACE, name, {"phase": "Succeeded"})
    for name in ("postgres-standby", "postgres-svc-1"):
        set_status(cluster, names.APP_NAMESPACE, name, {"conditions": [{"type": "Ready", "status": "False"}]})
    service = mf.annotated_service(m.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    service["metadata"]["name"] = ANNOTATED_SERVICE
    service["spec"]["selector"] |= BEHIND
    cluster.apply(service)
    # The EndpointSlice controller's slice: the three pods, postgres-svc-1 not ready.
    path = f"/apis/discovery.k8s.io/v1/namespaces/{names.APP_NAMESPACE}/endpointslices"
    selector = {"labelSelector": f"kubernetes.io/service-name={ANNOTATED_SERVICE}"}

    def written() -> bool:
        slices = cluster.request("GET", path, params=selector)["items"]
        endpoints = [e for s in slices for e in s.get("endpoints") or []]
        return sorted((e["targetRef"]["name"], e["conditions"]["ready"]) for e in endpoints) == [
            ("postgres-svc-0", True),
            ("postgres-svc-1", False),
            ("postgres-svc-2", True),
        ]

    assert wait_until(written, attempts=600)
    return running


def set_status(cluster: SimulatedCluster, namespace: str, name: str, status: Manifest) -> None:
    """The pod's status as its kubelet reports it (a merge patch of the status subresource)."""
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/pods/{name}/status",
        headers={"Content-Type": "application/merge-patch+json"},
        body={"status": status},
    )


@contextlib.contextmanager
def edge_case_cluster(workdir: Path, m: Manifests) -> Iterator[tuple[SimulatedCluster, Prometheus, Path]]:
    """The simulated cluster holding the charts' pods and the edge cases, a receiver, and a token file of
    the agent's service account."""
    receiver = Prometheus.receiver(workdir / "receiver")
    with SimulatedCluster(nodes=(*loopback_nodes(), NODE_C)) as cluster:
        try:
            # The scheduler keeps the workloads' pods off node C (DaemonSets' still run there): only the
            # bare pods behind the annotated Service live there, and only their slice is written.
            cluster.cordon(NODE_C.name)
            apply_charts(cluster, m)
            edge_cases(cluster, m)
            receiver.start_ready()
            token = workdir / "token"
            token.write_text(cluster.service_account_token(**AGENT_ACCOUNT))
            yield cluster, receiver, token
        finally:
            receiver.stop()


def cluster_agent(
    workdir: Path,
    config: dict[str, Any],
    *,
    name: str,
    cluster: SimulatedCluster,
    receiver: Prometheus,
    token: Path,
) -> Prometheus:
    """An agent at the cluster's release on `config`, changed only in API server, credentials and receiver."""
    local = for_local_receiver(against(config, cluster=cluster, token_file=token), receiver.remote_write_url)
    return Prometheus.agent(workdir / name, sc.render(local), name=name, binary=str(CLUSTER_PROMETHEUS))


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[Prometheus]:
    workdir = tmp_path_factory.mktemp("agent-targets")
    with edge_case_cluster(workdir, manifests) as (cluster, receiver, token):
        agent = cluster_agent(workdir, CONFIG, name="agent", cluster=cluster, receiver=receiver, token=token)
        try:
            agent.start_ready()
            yield agent
        finally:
            agent.stop()  # before the receiver: nothing left to flush into a dead endpoint


def discovered(agent: Prometheus) -> dict[str, list[dict[str, str]]]:
    """Per job, the label sets the agent's discovery gave it (active and dropped targets)."""
    result: dict[str, list[dict[str, str]]] = {job: [] for job in JOBS}
    answer = agent.targets()
    for t in [*answer["activeTargets"], *answer["droppedTargets"]]:
        result[t["scrapePool"]].append(t["discoveredLabels"])
    return result


def expected(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    return {job: set(targets_of(JOBS[job], labels, "5s")) for job, labels in discovered(agent).items()}


def active(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    result: dict[str, set[ScrapeTarget]] = {job: set() for job in JOBS}
    for t in agent.targets()["activeTargets"]:
        result[t["scrapePool"]].add(ScrapeTarget(t["scrapeUrl"], tuple(sorted(t["labels"].items()))))
    return result


# The edge cases are in there: counts per job as the unit tests reason about them.
COUNTS = {
    "apiserver": 1,  # the address the API server publishes
    "kubelet": 3,
    "cadvisor": 3,
    "node-exporter": 3,  # one per node, the annotated one included
    "kube-state-metrics": 2,  # http-metrics of both pods, never telemetry
    "prometheus-agent": 1,  # its pod (one replica in this tier: conftest.py), on its API port
    # Postgres exporter (postgres-0 and postgres-svc-2), the legacy app, no-ports (1), no-ports with a sidecar
    # (1, de-duplicated), init
    "pods": 6,
    "service-endpoints": 2,  # the opted-out Postgres pods behind the annotated Service, the not-ready one too
    "orders-api": 2,  # its pod and the annotated one, not the finished one
}


def settled(agent: Prometheus) -> bool:
    got = active(agent)
    return {job: len(t) for job, t in got.items()} == COUNTS and got == expected(agent)


def test_the_agent_selects_exactly_the_predicted_targets(agent):
    assert wait_until(lambda: settled(agent), attempts=300), (
        {job: len(targets) for job, targets in active(agent).items()},
        {
            job: {"missing": want - active(agent)[job], "unexpected": active(agent)[job] - want}
            for job, want in expected(agent).items()
            if active(agent)[job] != want
        },
    )


def test_dropped_targets_are_the_rest(agent):
    assert wait_until(lambda: settled(agent), attempts=300)
    dropped: dict[str, list[dict[str, str]]] = {job: [] for job in JOBS}
    for t in agent.targets()["droppedTargets"]:
        dropped[t["scrapePool"]].append(t["discoveredLabels"])
    for job, targets in discovered(agent).items():
        defaults = {"job": job, "__scheme__": JOBS[job].get("scheme", "http")}
        rejected = [t for t in targets if relabel(defaults | t, JOBS[job]["relabel_configs"]) is None]
        assert len(dropped[job]) == len(rejected), job
    dropped_pods = {t.get("__meta_kubernetes_pod_name") for t in dropped["pods"]}
    never = {"legacy-app-opted-out", "legacy-app-undeclared", "legacy-app-finished", "orders-api-finished"}
    assert never - {"orders-api-finished"} | {"orders-api-annotated", "postgres-standby"} <= dropped_pods
    assert "orders-api-finished" in {t.get("__meta_kubernetes_pod_name") for t in dropped["orders-api"]}
    active_pods = {dict(t.labels).get("pod") for ts in active(agent).values() for t in ts}
    assert not never & active_pods
    assert "orders-api-annotated" in active_pods  # by its own job only


def test_agent_logs_no_config_or_discovery_errors(agent):
    log = agent.log()
    assert "Completed loading of configuration file" in log
    assert "level=error" not in log.lower(), log[-3000:]


def test_an_annotated_service_is_scraped_per_endpoint_on_the_annotated_port(agent):
    assert wait_until(lambda: settled(agent), attempts=300)
    endpoints = sorted(active(agent)["service-endpoints"])
    assert [t.label_dict["pod"] for t in endpoints] == ["postgres-svc-0", "postgres-svc-1"]
    for target in endpoints:
        ip = target.label_dict["instance"].rsplit(":", 1)[0]
        assert ip.startswith("198.51.100.")
        assert target.url == f"http://{ip}:{names.POSTGRES_EXPORTER_PORT}/metrics"
        assert target.label_dict == {
            "job": "service-endpoints",
            "namespace": names.APP_NAMESPACE,
            "service": ANNOTATED_SERVICE,
            "pod": target.label_dict["pod"],
            "container": "postgres-exporter",
            "node": NODE_C.name,
            "instance": f"{ip}:{names.POSTGRES_EXPORTER_PORT}",
        }
    # The pod that opts in itself is scraped once, by the annotation job.
    opted_in = [
        (job, t)
        for job, ts in active(agent).items()
        for t in ts
        if t.label_dict.get("pod") == "postgres-svc-2"
    ]
    assert [job for job, _ in opted_in] == ["pods"]
