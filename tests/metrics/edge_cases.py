"""A simulated cluster (harness/cluster.py) holding the charts' pods and edge cases derived from them, created
through the API server, and the real Prometheus agent at the cluster's release running the generated config
against it with its real Kubernetes discovery: shared by test_agent_targets.py (the agent selects what the
`relabel` re-implementation predicts) and test_relabel_targets.py (what it selects, with which labels).

Nothing needs to answer the scrapes here. The pods and nodes have loopback addresses (closed ports), except
on a third node whose addresses are TEST-NET-2 ones (RFC 5737, routed nowhere): the API server refuses
loopback addresses in EndpointSlices, so the pods behind an annotated Service run there, and the real
EndpointSlice controller (harness/cluster.py's kube-controller-manager) writes their slice. A terminating
endpoint is in a slice of its own, written here: kwok deletes a pod as soon as it is being deleted, so no
pod stays terminating long enough for the controller to list it. The API server's own published address
is a TEST-NET-1 one (harness.cluster.ADVERTISE_ADDRESS).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import manifests as mf
from harness.cluster import SimulatedCluster, SimulatedNode, against
from harness.cluster_stack import AGENT_ACCOUNT, apply_charts, loopback_nodes, pod_of, run_pods
from harness.manifests import Manifests
from harness.stack import Prometheus, for_local_receiver, generated_config, wait_until
from observability import names
from observability.render import scrape_config as sc
from tests.metrics.relabel import ScrapeTarget
from webapp.orders_api import slo_contract

UNDECLARED_PORT = 9999
Manifest = dict[str, Any]
CONFIG = generated_config(cluster_name="edge", scrape_interval_seconds=5)
JOBS = {j["job_name"]: j for j in CONFIG["scrape_configs"]}
# The node of the pods behind the annotated Service (TEST-NET-2: EndpointSlices refuse loopback addresses).
NODE_C = SimulatedNode(name="kwok-node-c", ip="198.51.100.1", pod_cidr="198.51.100.128/25")
BEHIND = {"example.com/behind": "annotated-service"}  # the annotated Service's extra selector label
ANNOTATED_SERVICE = "postgres-annotated"
LEGACY_APP = "legacy-app"  # an app without a service file: its pods opt in by annotations (the `pods` job)
OTHER_NAMESPACE = "payments"  # a namespace the orders API's job does not select
# Pods whose kubelet reports an IPv6 address: one declaring no ports, one declaring the annotated one.
IPV6_POD, IPV6_PORTS_POD, IPV6 = "legacy-app-ipv6", "legacy-app-ipv6-ports", "fd00:ec2::31"
TERMINATING = "postgres-svc-3"  # behind the annotated Service, being deleted


def edge_cases(cluster: SimulatedCluster, m: Manifests) -> dict[str, list[Manifest]]:
    """The workloads' pods, from their real controllers (node B's node-exporter annotated anyway), and bare
    variants of them: what a team's pod may look like, created from our templates, Running, then finished,
    not ready or IPv6 pods' status set as the kubelet would report it. Returns the workloads' own pods,
    Running, by workload name."""
    workloads = {w["metadata"]["name"]: w for w in m.workloads()}
    of_workload = {name: cluster.run_workload(w) for name, w in workloads.items()}
    controlled = [pod for each in of_workload.values() for pod in each]
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
        pod["metadata"]["labels"][names.NAME_LABEL] = LEGACY_APP
        return pod

    other_app = web("orders-api-v2")
    other_app["metadata"]["labels"][names.NAME_LABEL] = "orders-api-v2"
    elsewhere = web("orders-api-elsewhere")
    elsewhere["metadata"]["namespace"] = OTHER_NAMESPACE
    elsewhere["spec"]["serviceAccountName"] = "default"  # the orders API's account lives in its namespace
    postgres = workloads[names.POSTGRES]
    pods = [
        mf.with_annotations(
            pod_of(cluster, workloads[names.KUBE_STATE_METRICS], name="ksm-annotated"), ksm_telemetry
        ),
        legacy("legacy-app"),
        mf.with_annotations(legacy("legacy-app-opted-out"), {mf.SCRAPE: "false"}),
        mf.with_annotations(legacy("legacy-app-unannotated"), {mf.SCRAPE: None}),
        mf.without_ports(legacy("legacy-app-no-ports")),
        mf.with_sidecar(mf.without_ports(legacy("legacy-app-no-ports-2"))),
        mf.with_init_container(legacy("legacy-app-init")),
        mf.with_annotations(legacy("legacy-app-undeclared"), {"prometheus.io/port": str(UNDECLARED_PORT)}),
        mf.with_annotations(legacy("legacy-app-no-port"), {"prometheus.io/port": None}),
        mf.with_annotations(
            legacy("legacy-app-https"), {"prometheus.io/scheme": "https", "prometheus.io/path": "/x/m"}
        ),
        mf.with_sidecar(legacy("legacy-app-sidecar")),
        mf.without_ports(legacy(IPV6_POD)),
        legacy(IPV6_PORTS_POD),
        legacy("legacy-app-finished"),
        legacy("legacy-app-failed"),
        # The orders API by its own job: annotated anyway (still only its job), finished (not scraped).
        mf.with_annotations(web("orders-api-annotated"), app_annotations),
        web("orders-api-finished"),
        # Its job needs every selector label and its namespace.
        other_app,
        elsewhere,
        # Not `postgres-1`: the StatefulSet controller would adopt a pod named as its member and delete it.
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-standby"), {mf.SCRAPE: "false"}),
    ]
    # Behind an annotated Service on node C: Postgres pods opted out of the annotation job (one not ready,
    # one being deleted), and one that opts in itself (the `pods` job scrapes it, the Service not again).
    behind = [
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-svc-0"), {mf.SCRAPE: "false"}),
        mf.with_annotations(pod_of(cluster, postgres, name="postgres-svc-1"), {mf.SCRAPE: "false"}),
        pod_of(cluster, postgres, name="postgres-svc-2"),
    ]
    for pod in behind:
        pod["metadata"]["labels"] |= BEHIND
    terminating = mf.with_annotations(pod_of(cluster, postgres, name=TERMINATING), {mf.SCRAPE: "false"})
    for pod in [*behind, terminating]:
        pod["spec"]["nodeName"] = NODE_C.name
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OTHER_NAMESPACE}})
    cluster.add_default_service_account(OTHER_NAMESPACE)
    running = controlled + run_pods(cluster, [*pods, *behind, terminating])
    for name in ("legacy-app-finished", "orders-api-finished"):
        set_status(cluster, names.APP_NAMESPACE, name, {"phase": "Succeeded"})
    set_status(cluster, names.APP_NAMESPACE, "legacy-app-failed", {"phase": "Failed"})
    for name in ("postgres-standby", "postgres-svc-1"):
        set_status(cluster, names.APP_NAMESPACE, name, {"conditions": [{"type": "Ready", "status": "False"}]})
    for name, ip in ((IPV6_POD, IPV6), (IPV6_PORTS_POD, IPV6.replace("::31", "::32"))):
        set_status(cluster, names.APP_NAMESPACE, name, {"podIP": ip, "podIPs": [{"ip": ip}]})
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
    (terminating_now,) = [p for p in running if p["metadata"]["name"] == TERMINATING]
    cluster.apply(terminating_slice(service, terminating_now))
    return of_workload


def terminating_slice(service: Manifest, pod: Manifest) -> Manifest:
    """A slice of `service` listing `pod` as the EndpointSlice controller lists a pod being deleted (not
    ready, serving, terminating), managed by another controller so the EndpointSlice controller leaves it."""
    namespace = service["metadata"]["namespace"]
    declared = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}

    def target_port(port: Manifest) -> int:
        wanted = port.get("targetPort", port["port"])
        return wanted if isinstance(wanted, int) else int(declared[wanted])

    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service['metadata']['name']}-terminating",
            "namespace": namespace,
            "labels": {
                "kubernetes.io/service-name": service["metadata"]["name"],
                "endpointslice.kubernetes.io/managed-by": "harness.example.com",
            },
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": False, "serving": True, "terminating": True},
                "nodeName": pod["spec"]["nodeName"],
                "targetRef": {
                    "kind": "Pod",
                    "namespace": namespace,
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
        ],
        "ports": [
            {"name": port.get("name", ""), "port": target_port(port), "protocol": port.get("protocol", "TCP")}
            for port in service["spec"]["ports"]
        ],
    }


def set_status(cluster: SimulatedCluster, namespace: str, name: str, status: Manifest) -> None:
    """The pod's status as its kubelet reports it (a merge patch of the status subresource)."""
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/pods/{name}/status",
        headers={"Content-Type": "application/merge-patch+json"},
        body={"status": status},
    )


@dataclasses.dataclass(frozen=True)
class EdgeCases:
    cluster: SimulatedCluster
    agent: Prometheus
    pods: dict[str, list[Manifest]]  # the workloads' own pods, Running, by workload name


@contextlib.contextmanager
def edge_case_cluster(
    workdir: Path, m: Manifests
) -> Iterator[tuple[SimulatedCluster, Prometheus, Path, dict[str, list[Manifest]]]]:
    """The simulated cluster holding the charts' pods and the edge cases, a receiver, a token file of the
    agent's service account, and the workloads' own pods (`edge_cases`)."""
    receiver = Prometheus.receiver(workdir / "receiver")
    with SimulatedCluster(nodes=(*loopback_nodes(), NODE_C)) as cluster:
        try:
            # The scheduler keeps the workloads' pods off node C (DaemonSets' still run there): only the
            # bare pods behind the annotated Service live there, and only their slice is written.
            cluster.cordon(NODE_C.name)
            apply_charts(cluster, m)
            pods = edge_cases(cluster, m)
            receiver.start_ready()
            token = workdir / "token"
            token.write_text(cluster.service_account_token(**AGENT_ACCOUNT))
            yield cluster, receiver, token, pods
        finally:
            receiver.stop()


@contextlib.contextmanager
def edge_case_agent(workdir: Path, m: Manifests) -> Iterator[EdgeCases]:
    """The edge-case cluster and the agent running CONFIG against it, started."""
    with edge_case_cluster(workdir, m) as (cluster, receiver, token, pods):
        agent = cluster_agent(workdir, CONFIG, name="agent", cluster=cluster, receiver=receiver, token=token)
        try:
            agent.start_ready()
            yield EdgeCases(cluster=cluster, agent=agent, pods=pods)
        finally:
            agent.stop()  # before the receiver: nothing left to flush into a dead endpoint


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
    return Prometheus.agent(workdir / name, sc.render(local), name=name)


def discovered(agent: Prometheus) -> dict[str, list[dict[str, str]]]:
    """Per job, the label sets the agent's discovery gave it (active and dropped targets)."""
    result: dict[str, list[dict[str, str]]] = {job: [] for job in JOBS}
    answer = agent.targets()
    for t in [*answer["activeTargets"], *answer["droppedTargets"]]:
        result[t["scrapePool"]].append(t["discoveredLabels"])
    return result


def active(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    """Per job, what the agent scrapes: URL and labels."""
    result: dict[str, set[ScrapeTarget]] = {job: set() for job in JOBS}
    for t in agent.targets()["activeTargets"]:
        result[t["scrapePool"]].add(ScrapeTarget(t["scrapeUrl"], tuple(sorted(t["labels"].items()))))
    return result
