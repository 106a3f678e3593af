"""Faults on the simulated cluster (issue #19), acted out by its real kube-controller-manager and
kube-scheduler and followed by the agent's real Kubernetes discovery: a deleted pod is replaced, draining
nodes evicts their pods as far as the agents' PodDisruptionBudget lets it, a scaled Deployment gets or loses
pods. This module changes the session's cluster: its name keeps it after the other modules (pytest runs a
folder's files in name order), and each test leaves the workloads rolled out again."""

from __future__ import annotations

from typing import Any

from harness.cluster import ApiError, SimulatedCluster, wait_until
from harness.stack import Prometheus
from tests.cluster.conftest import Applied

Manifest = dict[str, Any]
AGENTS = "app.kubernetes.io/name=prometheus-agent"
# The Eviction API's refusal when a budget allows no disruption (429, as the API reference's "Eviction"
# section and the "API-initiated eviction" page describe).
REFUSED = (429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.")


def _applied(applied: Applied, kind: str, name: str) -> Manifest:
    (obj,) = [o for _, o in applied.objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def _targets(agent: Prometheus, job: str) -> list[str]:
    """The pods the agent's active targets of `job` name, sorted."""
    return sorted(t["labels"]["pod"] for t in agent.targets()["activeTargets"] if t["labels"]["job"] == job)


def _pod(cluster: SimulatedCluster, namespace: str, name: str) -> Manifest:
    return cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")


def test_a_deleted_pod_is_replaced_and_discovery_follows(
    cluster: SimulatedCluster, applied: Applied, running_pods: list[Manifest], agent: Prometheus
) -> None:
    """The ReplicaSet makes a new pod (a new generated name, the same owner) and the agent drops the old
    target for the new one."""
    orders = _applied(applied, "Deployment", "orders-api")
    (old,) = cluster.run_workload(orders)
    old_name = old["metadata"]["name"]
    assert wait_until(lambda: _targets(agent, "orders-api") == [old_name], timeout=60)

    cluster.delete_pod(namespace="orders", name=old_name)
    (new,) = cluster.run_workload(orders)
    new_name = new["metadata"]["name"]
    assert new_name != old_name
    (owner,) = old["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"]) for o in new["metadata"]["ownerReferences"]] == [
        ("ReplicaSet", owner["name"])
    ]
    assert new_name.startswith(f"{owner['name']}-")  # generateName: the ReplicaSet's name and a suffix
    assert wait_until(lambda: _targets(agent, "orders-api") == [new_name], timeout=60), _targets(
        agent, "orders-api"
    )


def test_draining_nodes_evicts_their_pods_within_the_agents_disruption_budget(
    cluster: SimulatedCluster, applied: Applied, running_pods: list[Manifest], agent: Prometheus
) -> None:
    """Both nodes are drained (as when a node group is replaced): the first agent's eviction is allowed
    (maxUnavailable 1 of 2), the second is refused while the first's replacement is not back, and allowed
    once it runs again. The StatefulSet's replacement keeps its name; discovery follows its pod."""
    statefulset = _applied(applied, "StatefulSet", "prometheus-agent")
    (budget,) = [
        o
        for _, o in applied.objects
        if o["kind"] == "PodDisruptionBudget" and "prometheus-agent" in o["metadata"]["name"]
    ]
    budget_path = (
        f"/apis/policy/v1/namespaces/{budget['metadata']['namespace']}"
        f"/poddisruptionbudgets/{budget['metadata']['name']}"
    )
    first, second = cluster.run_workload(statefulset)
    assert [first["metadata"]["name"], second["metadata"]["name"]] == [
        "prometheus-agent-0",
        "prometheus-agent-1",
    ]
    node_a, node_b = first["spec"]["nodeName"], second["spec"]["nodeName"]
    assert node_a != node_b
    try:
        cluster.cordon(node_b)  # the evicted agent has nowhere to go
        assert cluster.drain_node(node_a, pod_selector=AGENTS).evicted == ["prometheus-agent-0"]

        def replacement_pending() -> bool:
            try:
                pod = _pod(cluster, "monitoring", "prometheus-agent-0")
            except ApiError:
                return False
            return (
                pod["metadata"]["uid"] != first["metadata"]["uid"] and pod["status"].get("phase") == "Pending"
            )

        assert wait_until(replacement_pending, timeout=60)
        drained = cluster.drain_node(node_b, pod_selector=AGENTS)
        assert (drained.evicted, drained.unmanaged, list(drained.refused)) == ([], [], ["prometheus-agent-1"])
        refused = drained.refused["prometheus-agent-1"]
        assert (refused.status_code, refused.reason, refused.message) == REFUSED
        status = cluster.request("GET", budget_path)["status"]
        assert (status["expectedPods"], status["currentHealthy"], status["desiredHealthy"]) == (2, 1, 1)
        assert status["disruptionsAllowed"] == 0
        assert (
            _pod(cluster, "monitoring", "prometheus-agent-1")["metadata"]["uid"] == second["metadata"]["uid"]
        )

        cluster.cordon(node_a, unschedulable=False)

        def back() -> bool:
            pod = _pod(cluster, "monitoring", "prometheus-agent-0")
            return pod["status"].get("phase") == "Running" and pod["spec"].get("nodeName") == node_a

        assert wait_until(back, timeout=60)
        assert wait_until(
            lambda: cluster.request("GET", budget_path)["status"]["disruptionsAllowed"] == 1, timeout=60
        )
        assert cluster.drain_node(node_b, pod_selector=AGENTS).evicted == ["prometheus-agent-1"]
    finally:
        cluster.cordon(node_a, unschedulable=False)
        cluster.cordon(node_b, unschedulable=False)
    pods = cluster.run_workload(statefulset)
    assert [p["metadata"]["name"] for p in pods] == ["prometheus-agent-0", "prometheus-agent-1"]
    assert pods[0]["metadata"]["uid"] != first["metadata"]["uid"]
    assert pods[1]["metadata"]["uid"] != second["metadata"]["uid"]
    # The agent's own job scrapes both replicas at their current addresses.
    want = sorted(f"http://{p['status']['podIP']}:9090/metrics" for p in pods)

    def scraped() -> list[str]:
        return sorted(
            t["scrapeUrl"]
            for t in agent.targets()["activeTargets"]
            if t["labels"]["job"] == "prometheus-agent"
        )

    assert wait_until(lambda: scraped() == want, timeout=60), (scraped(), want)


def test_scaling_a_deployment_changes_the_discovered_targets(
    cluster: SimulatedCluster, applied: Applied, running_pods: list[Manifest], agent: Prometheus
) -> None:
    """kube-state-metrics' Deployment scaled to 2 and back to 1 (`kubectl scale`): the ReplicaSet adds a
    pod, then removes one, and the agent's `kube-state-metrics` job follows, one target per pod on its IP
    (the job keeps no `pod` label: kube-state-metrics' series carry their own)."""
    deployment = _applied(applied, "Deployment", "kube-state-metrics")

    def urls(pods: list[Manifest]) -> list[str]:
        return sorted(f"http://{p['status']['podIP']}:8080/metrics" for p in pods)

    def scraped() -> list[str]:
        targets = agent.targets()["activeTargets"]
        return sorted(t["scrapeUrl"] for t in targets if t["labels"]["job"] == "kube-state-metrics")

    one = cluster.run_workload(deployment)
    assert len(one) == 1
    assert wait_until(lambda: scraped() == urls(one), timeout=60), scraped()
    try:
        cluster.scale(deployment, replicas=2)
        two = cluster.run_workload(deployment)
        assert len(two) == 2
        assert one[0]["metadata"]["name"] in [p["metadata"]["name"] for p in two]
        assert wait_until(lambda: scraped() == urls(two), timeout=60), scraped()
    finally:
        cluster.scale(deployment, replicas=1)
    left = cluster.run_workload(deployment)
    assert len(left) == 1
    assert left[0]["metadata"]["name"] in [p["metadata"]["name"] for p in two]
    assert wait_until(lambda: scraped() == urls(left), timeout=60), scraped()
