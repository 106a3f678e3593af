"""The agent's real Kubernetes discovery: Prometheus at the cluster's release runs the generated configuration
against the simulated cluster (only the API server's address and the credentials differ) and finds the
pods, nodes and EndpointSlices there, relabeled as in the cluster."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.cluster import ADVERTISE_ADDRESS, SimulatedCluster, wait_until
from harness.kube_state_metrics import KubeStateMetrics
from harness.stack import (
    NODE_EXPORTER,
    PROMETHEUS,
    Process,
    Prometheus,
    http_ok,
)
from k8s.images import PROMETHEUS_IMAGE
from k8s.monitoring.node_exporter_chart import ARGS as NODE_EXPORTER_CHART_ARGS

Manifest = dict[str, Any]
NAME_LABEL = "app.kubernetes.io/name"


@pytest.fixture(scope="module")
def node_exporter_on_its_pod(
    running_pods: list[Manifest], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real node-exporter listening on the first node-exporter pod's IP and container port (host
    network: the node's loopback IP), as the chart runs it (its filters; this machine's /proc and /sys)."""
    pod = next(p for p in running_pods if p["metadata"]["namespace"] == "node-exporter")
    (container,) = pod["spec"]["containers"]
    (port,) = [p["containerPort"] for p in container["ports"]]
    address = f"{pod['status']['podIP']}:{port}"
    filters = [a for a in NODE_EXPORTER_CHART_ARGS if not a.startswith(("--path.", "--web."))]
    workdir = Path(tmp_path_factory.mktemp("node-exporter"))
    process = Process(
        "node-exporter", [NODE_EXPORTER, f"--web.listen-address={address}", *filters], workdir / "log"
    )
    process.start()
    try:
        process.wait_ready(lambda: http_ok(f"http://{address}/metrics"))
        yield address
    finally:
        process.stop()


def _active_targets(agent: Prometheus) -> list[dict[str, Any]]:
    answer = httpx.get(f"{agent.url}/api/v1/targets", timeout=10).json()
    targets: list[dict[str, Any]] = answer["data"]["activeTargets"]
    return targets


def _pod_ips(running_pods: list[Manifest], workload: str) -> list[str]:
    """The IPs kwok gave the pods of `workload` (pods carry `app.kubernetes.io/name`)."""
    return [
        str(p["status"]["podIP"]) for p in running_pods if p["metadata"]["labels"].get(NAME_LABEL) == workload
    ]


def _pod_ip(running_pods: list[Manifest], workload: str) -> str:
    """The IP of the (one) pod of `workload`."""
    (ip,) = _pod_ips(running_pods, workload)
    return ip


def test_the_agent_is_the_clusters_prometheus_release() -> None:
    version = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"prometheus, version {PROMETHEUS_IMAGE.rsplit(':v', 1)[1]} ")


def test_discovery_finds_the_simulated_pods_nodes_and_api_server(
    cluster: SimulatedCluster, running_pods: list[Manifest], agent: Prometheus
) -> None:
    """Every job's targets, from the API server's pods, nodes and EndpointSlices, at the ports the
    charts declare (the scrape config's table)."""
    expected = {
        ("apiserver", f"https://{ADVERTISE_ADDRESS}:{cluster.port}/metrics"),
        ("kubelet", "https://127.1.0.1:10250/metrics"),
        ("kubelet", "https://127.1.0.2:10250/metrics"),
        ("cadvisor", "https://127.1.0.1:10250/metrics/cadvisor"),
        ("cadvisor", "https://127.1.0.2:10250/metrics/cadvisor"),
        ("node-exporter", "http://127.1.0.1:9100/metrics"),
        ("node-exporter", "http://127.1.0.2:9100/metrics"),
        ("kube-state-metrics", f"http://{_pod_ip(running_pods, 'kube-state-metrics')}:8080/metrics"),
        # Both agents of the HA pair, each scraped by this one.
        *(
            ("prometheus-agent", f"http://{ip}:9090/metrics")
            for ip in _pod_ips(running_pods, "prometheus-agent")
        ),
        ("orders-api", f"http://{_pod_ip(running_pods, 'orders-api')}:8080/metrics"),
        # Postgres's pod opts in with the annotations: its exporter's port.
        ("pods", f"http://{_pod_ip(running_pods, 'postgres')}:9187/metrics"),
    }
    found: set[tuple[str, str]] = set()

    def discovered() -> bool:
        found.clear()
        found.update((t["labels"]["job"], t["scrapeUrl"]) for t in _active_targets(agent))
        return found == expected

    assert wait_until(discovered, timeout=180), f"expected {sorted(expected)}, found {sorted(found)}"


def test_target_labels_name_the_pod_and_node(running_pods: list[Manifest], agent: Prometheus) -> None:
    (orders,) = [t for t in _active_targets(agent) if t["labels"]["job"] == "orders-api"]
    (pod,) = [p for p in running_pods if p["metadata"]["labels"].get(NAME_LABEL) == "orders-api"]
    assert {k: v for k, v in orders["labels"].items() if k != "instance"} == {
        "job": "orders-api",
        "namespace": "orders",
        "pod": pod["metadata"]["name"],
        "container": "orders-api",
        "node": pod["spec"]["nodeName"],
    }
    kubelets = {
        t["labels"]["instance"]: t["labels"].get("node")
        for t in _active_targets(agent)
        if t["labels"]["job"] == "kubelet"
    }
    assert kubelets == {"kwok-node-a": "kwok-node-a", "kwok-node-b": "kwok-node-b"}


def test_the_node_exporter_on_its_pods_ip_is_scraped_and_written(
    agent: Prometheus, receiver: Prometheus, running_pods: list[Manifest], node_exporter_on_its_pod: str
) -> None:
    """The real process on the pod's loopback IP is up (the other node's is not: nothing listens there),
    and its series reach the receiver through remote write. Which node's pod comes first is the DaemonSet
    controller's choice: the process runs on that one."""
    # Host network: each node-exporter pod has its node's InternalIP (harness/cluster.py's DEFAULT_NODES).
    assert sorted(f"{ip}:9100" for ip in _pod_ips(running_pods, "node-exporter")) == [
        "127.1.0.1:9100",
        "127.1.0.2:9100",
    ]
    (idle,) = {"127.1.0.1:9100", "127.1.0.2:9100"} - {node_exporter_on_its_pod}

    def health() -> dict[str, str]:
        return {
            t["labels"]["instance"]: t["health"]
            for t in _active_targets(agent)
            if t["labels"]["job"] == "node-exporter"
        }

    assert wait_until(lambda: health() == {node_exporter_on_its_pod: "up", idle: "down"}, timeout=60), (
        health()
    )
    assert wait_until(
        lambda: bool(
            receiver.query(f'node_uname_info{{job="node-exporter", instance="{node_exporter_on_its_pod}"}}')
        ),
        timeout=60,
    )


def test_kube_state_metrics_on_its_pods_ip_is_scraped_through_its_keep_list(
    agent: Prometheus, receiver: Prometheus, kube_state_metrics: KubeStateMetrics
) -> None:
    """The real kube-state-metrics, found by discovery on its pod's IP: what its keep-list keeps reaches the
    receiver (the orders API's replica count), what it exposes but nobody reads does not."""
    query = (
        'kube_deployment_spec_replicas{job="kube-state-metrics", namespace="orders", deployment="orders-api"}'
    )
    assert wait_until(lambda: [r["value"][1] for r in receiver.query(query)] == ["1"], timeout=60), (
        receiver.query(query)
    )
    assert "kube_pod_created" in kube_state_metrics.family_names()
    assert receiver.query('kube_pod_created{job="kube-state-metrics"}') == []
