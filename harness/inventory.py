"""The example inventory API (examples/inventory-api, team warehouse) as a local process on its pod's IP and
port in the simulated cluster, the pod made from the team's own Deployment manifest, where the agent's
Kubernetes discovery finds it.

It is broken the way it breaks in a cluster: its stock file (a mounted ConfigMap there) goes away, and
every stock look-up answers 503 until the file is back. The code has no switch for it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from harness import manifests
from harness.cluster import SimulatedCluster
from harness.cluster_stack import pod_of, run_pods
from harness.postgres import free_port
from harness.stack import HOST, REPO, Process, http_ok

EXAMPLE = REPO / "examples" / "inventory-api"
CODE = EXAMPLE / "inventory_api.py"
DEPLOYMENT = EXAMPLE / "deployment.yaml"
STOCK = {"widget": 40, "gadget": 7, "sprocket": 0}
READ_PATH = "/stock/widget"  # what the sandbox's load asks for
POD_NAME = "inventory-api-7d9f8-x2k4q"  # one pod of the team's Deployment (a ReplicaSet's name shape)


def deployment() -> manifests.Manifest:
    document: manifests.Manifest = yaml.safe_load(DEPLOYMENT.read_text(encoding="utf-8"))
    return document


def container_port() -> int:
    """The port the Deployment's container declares (the one its service file scrapes)."""
    (container,) = deployment()["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    return int(port["containerPort"])


def run_pod(cluster: SimulatedCluster) -> manifests.Manifest:
    """One pod of the team's Deployment in its namespace (created first, with its `default` service
    account), created through the API server and Running: the pod the agent's discovery finds."""
    namespace = deployment()["metadata"]["namespace"]
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    cluster.add_default_service_account(namespace)
    (running,) = run_pods(cluster, [pod_of(cluster, deployment(), name=POD_NAME)])
    return running


class InventoryApi:
    """The service on `host`:`port` (by default 127.0.0.1 on a free port), reading its stock file from
    `workdir`; stopped by PID."""

    def __init__(self, workdir: Path, *, host: str = HOST, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.stock_file = workdir / "stock.json"
        self._gone = workdir / "stock.json.gone"
        argv = [sys.executable, str(CODE), "--host", host, "--port", str(self.port)]
        argv += ["--stock-file", str(self.stock_file)]
        self.process = Process("inventory-api", argv, workdir / "inventory-api.log")

    @classmethod
    def on_pod(cls, workdir: Path, pod: manifests.Manifest) -> InventoryApi:
        """The service listening where `pod` (Running) says it does: its IP, the container's port."""
        return cls(workdir, host=pod["status"]["podIP"], port=container_port())

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stock_file.write_text(json.dumps(STOCK), encoding="utf-8")
        self.process.start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/healthz"))

    def stop(self) -> None:
        self.process.stop()

    @property
    def broken(self) -> bool:
        return not self.stock_file.exists()

    def take_stock_file_away(self) -> None:
        self.stock_file.rename(self._gone)

    def put_stock_file_back(self) -> None:
        self._gone.rename(self.stock_file)
