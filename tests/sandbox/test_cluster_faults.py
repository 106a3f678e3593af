"""`make fault`'s faults on the simulated cluster (issue #19), applied to a running sandbox: the real
controllers replace, move or add the pods, the sandbox runs each pod's process where its pod now is, and
the real agent's discovery, the web app on its new pods' IPs and the load follow. The tests run in this
order on one sandbox; each leaves one orders API pod and both nodes schedulable."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.cluster import wait_until
from harness.manifests import synthesize
from sandbox.core import Sandbox
from sandbox.faults import FaultError

Manifest = dict[str, Any]
APP_PORT = 8080  # the orders API's container port (webapp chart, services/orders-api/service.yaml)
AGENT_PORT = 9090
ORDERS = "app.kubernetes.io/name=orders-api"
AGENT = "app.kubernetes.io/name=prometheus-agent"
POSTGRES = "app.kubernetes.io/name=postgres"
INVENTORY_POD = "inventory-api-7d9f8-x2k4q"  # the example's one bare pod (harness/inventory.py)
# The Eviction API's refusal when a budget allows no disruption (the API reference's "Eviction" section).
REFUSED = "429 TooManyRequests: Cannot evict pod as it would violate the pod's disruption budget."
DEADLINE = 120  # seconds: generous, for a loaded 2-core machine
# One worker runs the module (`--dist loadgroup`): one sandbox, not one per worker (~40 s each to start).
pytestmark = pytest.mark.xdist_group("cluster-faults")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("cluster-faults"), synthesize(agent_replicas=1)) as started:
        yield started


def pods(sandbox: Sandbox, selector: str) -> list[Manifest]:
    """The Running pods `selector` matches, as the API server lists them, by name."""
    listed = sandbox.stack.cluster.request("GET", "/api/v1/pods", params={"labelSelector": selector})
    running = [
        p
        for p in listed["items"]
        if p["status"].get("phase") == "Running" and "deletionTimestamp" not in p["metadata"]
    ]
    return sorted(running, key=lambda p: str(p["metadata"]["name"]))


def names_of(listed: list[Manifest]) -> list[str]:
    return [p["metadata"]["name"] for p in listed]


def targets(sandbox: Sandbox, job: str) -> dict[str, str]:
    """The agent's active targets of `job`: pod -> health, from its targets API."""
    active = httpx.get(f"{sandbox.agent.url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    return {t["labels"]["pod"]: t["health"] for t in active if t["labels"]["job"] == job}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def refuses(url: str) -> bool:
    """Nothing listens there any more."""
    try:
        httpx.get(url, timeout=5)
    except httpx.ConnectError:
        return True
    return False


def listeners(address: str) -> set[str]:
    """The PIDs of the processes listening on `address` (ip:port), as `ss` lists them: kwok may give a
    replacement pod the IP its predecessor freed, and then only the process tells them apart."""
    shown = subprocess.run(
        ["ss", "-ltnpH", "src", address], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return set(re.findall(r"pid=(\d+)", shown))


def discovered_up(sandbox: Sandbox, job: str, expected: list[str]) -> None:
    """The agent's `job` targets become exactly `expected`'s pods, each up (scraped at its pod's IP)."""
    want = dict.fromkeys(expected, "up")
    assert wait_until(lambda: targets(sandbox, job) == want, timeout=DEADLINE), (targets(sandbox, job), want)


def load_gets_answers(sandbox: Sandbox) -> None:
    """The load goes to the orders API's pods as they are now, and its requests are answered (200) again:
    20 more than now."""
    assert sandbox.load is not None
    load = sandbox.load
    assert sorted(load.base_urls) == [
        f"http://{p['status']['podIP']}:{APP_PORT}" for p in pods(sandbox, ORDERS)
    ]
    before = load.statuses[200]
    assert wait_until(lambda: load.statuses[200] >= before + 20, timeout=DEADLINE), dict(load.statuses)


def test_a_deleted_orders_api_pod_is_replaced_and_the_app_runs_on_the_new_pod(sandbox):
    (old,) = pods(sandbox, ORDERS)
    discovered_up(sandbox, "orders-api", names_of([old]))
    old_process = listeners(f"{old['status']['podIP']}:{APP_PORT}")
    assert old_process

    message = sandbox.apply("delete-pod", {"pod": "orders-api"})

    (new,) = pods(sandbox, ORDERS)
    new_process = listeners(f"{new['status']['podIP']}:{APP_PORT}")
    assert new_process
    assert not new_process & old_process
    assert new["metadata"]["name"] != old["metadata"]["name"]
    assert f"deleted pod orders/{old['metadata']['name']}" in message
    assert new["metadata"]["name"] in message
    assert answers(f"http://{new['status']['podIP']}:{APP_PORT}/readyz")
    if new["status"]["podIP"] != old["status"]["podIP"]:  # kwok may hand the freed IP out again
        assert refuses(f"http://{old['status']['podIP']}:{APP_PORT}/readyz")
    discovered_up(sandbox, "orders-api", names_of([new]))
    load_gets_answers(sandbox)


def test_a_deleted_agent_pod_moves_the_agent_which_keeps_discovering(sandbox):
    """The agent's StatefulSet replaces its pod (same name, new uid): the agent restarts on the new pod's
    IP, where its own job scrapes it, and keeps finding the orders API."""
    (old,) = pods(sandbox, AGENT)
    old_process = listeners(f"{old['status']['podIP']}:{AGENT_PORT}")
    assert old_process
    sandbox.apply("delete-pod", {"pod": "prometheus-agent-0"})
    (new,) = pods(sandbox, AGENT)
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    new_process = listeners(f"{new['status']['podIP']}:{AGENT_PORT}")
    assert new_process
    assert not new_process & old_process
    assert sandbox.agent.url == f"http://{new['status']['podIP']}:{AGENT_PORT}"
    discovered_up(sandbox, "prometheus-agent", ["prometheus-agent-0"])
    discovered_up(sandbox, "orders-api", names_of(pods(sandbox, ORDERS)))


def test_postgres_and_unknown_pods_are_refused(sandbox):
    with pytest.raises(FaultError, match="does not move Postgres"):
        sandbox.apply("delete-pod", {"pod": "postgres"})
    with pytest.raises(FaultError, match="no workload or pod 'billing'"):
        sandbox.apply("delete-pod", {"pod": "billing"})


def test_scaling_the_orders_api_runs_one_app_per_pod_and_the_load_takes_turns(sandbox):
    with pytest.raises(FaultError, match=r"replicas must be between 1 and 6 \(got 0\)"):
        sandbox.apply("scale", {"replicas": 0})
    (first,) = pods(sandbox, ORDERS)

    sandbox.apply("scale", {"replicas": 3})

    three = pods(sandbox, ORDERS)
    assert len(three) == 3
    assert first["metadata"]["name"] in names_of(three)
    assert len({p["status"]["podIP"] for p in three}) == 3
    discovered_up(sandbox, "orders-api", names_of(three))

    def served() -> dict[str, float]:
        """Requests each pod's own app counted (its /metrics)."""
        counts = {}
        for pod in three:
            page = httpx.get(f"http://{pod['status']['podIP']}:{APP_PORT}/metrics", timeout=5).text
            found = re.findall(r'^http_requests_total\{[^}]*route="/orders"[^}]*\} (\S+)$', page, re.M)
            counts[pod["metadata"]["name"]] = sum(float(v) for v in found)
        return counts

    before = served()
    assert wait_until(lambda: all(served()[n] >= before[n] + 5 for n in before), timeout=DEADLINE), (
        before,
        served(),
    )
    assert sandbox.status()["faults"]["scale"]["what"] == "orders API at 3 replicas"

    sandbox.apply("scale", {"replicas": 1})

    (left,) = pods(sandbox, ORDERS)
    for pod in three:
        if pod["metadata"]["name"] != left["metadata"]["name"]:
            assert refuses(f"http://{pod['status']['podIP']}:{APP_PORT}/readyz")
    discovered_up(sandbox, "orders-api", names_of([left]))
    load_gets_answers(sandbox)
    assert "scale" not in sandbox.status()["faults"]


def test_draining_moves_the_pods_and_the_postgres_budget_refuses_its_eviction(sandbox):
    """The node without Postgres drained first (its pods go to Postgres's node), then Postgres's: the
    orders API and the agent move back, Postgres's PodDisruptionBudget (minAvailable 1) keeps it, the
    inventory API's bare pod is left alone, and the app keeps answering on its new pod."""
    (postgres,) = pods(sandbox, POSTGRES)
    postgres_node = postgres["spec"]["nodeName"]
    (other,) = {n.name for n in sandbox.stack.cluster.nodes} - {postgres_node}
    messages = []
    try:
        messages.append(sandbox.apply("drain-node", {"node": other}))
        assert sandbox.status()["nodes"][other]["schedulable"] is False
        assert {p["spec"]["nodeName"] for p in pods(sandbox, f"{ORDERS}")} == {postgres_node}
        sandbox.apply("uncordon-node", {"node": other})
        assert sandbox.status()["nodes"][other]["schedulable"] is True
        (before,) = pods(sandbox, ORDERS)

        messages.append(sandbox.apply("drain-node", {"node": postgres_node}))
    finally:
        for node in (postgres_node, other):
            sandbox.stack.cluster.cordon(node, unschedulable=False)

    drained = messages[-1]
    assert f"refused by a PodDisruptionBudget: {postgres['metadata']['name']}: {REFUSED}" in drained
    assert before["metadata"]["name"] in drained.splitlines()[0]  # evicted
    assert f"not evicted: {INVENTORY_POD} has no controller" in "\n".join(messages)
    (still,) = pods(sandbox, POSTGRES)
    assert still["metadata"]["uid"] == postgres["metadata"]["uid"]
    (after,) = pods(sandbox, ORDERS)
    assert after["spec"]["nodeName"] == other
    assert answers(f"http://{after['status']['podIP']}:{APP_PORT}/readyz")
    (agent,) = pods(sandbox, AGENT)
    assert agent["spec"]["nodeName"] == other
    assert sandbox.agent.url == f"http://{agent['status']['podIP']}:{AGENT_PORT}"
    discovered_up(sandbox, "orders-api", names_of([after]))
    load_gets_answers(sandbox)
    shown = sandbox.status()["pods"]
    assert shown[f"orders/{after['metadata']['name']}"] == f"Running {after['status']['podIP']} on {other}"


def test_pods_evicted_with_every_node_cordoned_wait_and_run_once_one_is_uncordoned(sandbox):
    """Both nodes drained: the second drain's evicted pods have nowhere to go (Pending, no process);
    uncordoning one node lets the scheduler place them, and their processes start there."""
    (orders,) = pods(sandbox, ORDERS)
    node = orders["spec"]["nodeName"]
    (other,) = {n.name for n in sandbox.stack.cluster.nodes} - {node}
    try:
        sandbox.apply("drain-node", {"node": other})
        drained = sandbox.apply("drain-node", {"node": node})
        assert "every node is cordoned: the evicted pods stay Pending until uncordon-node" in drained
        assert pods(sandbox, ORDERS) == []
        pending = [k for k, v in sandbox.status()["pods"].items() if k.startswith("orders/orders-api-")]
        assert [sandbox.status()["pods"][k].split(" ")[0] for k in pending] == ["Pending"]
        assert refuses(f"http://{orders['status']['podIP']}:{APP_PORT}/readyz")

        uncordoned = sandbox.apply("uncordon-node", {"node": other})
    finally:
        for name in (node, other):
            sandbox.stack.cluster.cordon(name, unschedulable=False)
    (back,) = pods(sandbox, ORDERS)
    assert back["spec"]["nodeName"] == other
    assert back["metadata"]["name"] in uncordoned
    assert answers(f"http://{back['status']['podIP']}:{APP_PORT}/readyz")
    discovered_up(sandbox, "orders-api", names_of([back]))
    load_gets_answers(sandbox)


def test_a_node_must_be_named_and_known(sandbox):
    with pytest.raises(FaultError, match="which node"):
        sandbox.apply("drain-node", {})
    with pytest.raises(FaultError, match="no node 'kwok-node-z'; one of: kwok-node-a, kwok-node-b"):
        sandbox.apply("uncordon-node", {"node": "kwok-node-z"})
