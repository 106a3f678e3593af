"""The example inventory API (examples/inventory-api, team warehouse) as a local process, and the pod that
the agent's Kubernetes discovery would find for it, built from the team's own Deployment manifest.

It is broken the way it breaks in a cluster: its stock file (a mounted ConfigMap there) goes away, and
every stock look-up answers 503 until the file is back. The code has no switch for it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from harness import manifests
from harness.postgres import free_port
from harness.stack import HOST, REPO, Process, http_ok

EXAMPLE = REPO / "examples" / "inventory-api"
CODE = EXAMPLE / "inventory_api.py"
DEPLOYMENT = EXAMPLE / "deployment.yaml"
POD_IP = "10.40.1.41"  # beside the platform's pods of harness.manifests.cluster_pods
STOCK = {"widget": 40, "gadget": 7, "sprocket": 0}
READ_PATH = "/stock/widget"  # what the sandbox's load asks for


def deployment() -> manifests.Manifest:
    document: manifests.Manifest = yaml.safe_load(DEPLOYMENT.read_text(encoding="utf-8"))
    return document


def pod() -> manifests.Manifest:
    """One pod of the team's Deployment, as the API server would list it."""
    return manifests.pod(deployment(), node=manifests.NODE_A, ip=POD_IP)


class InventoryApi:
    """The service on 127.0.0.1, reading its stock file from `workdir`; stopped by PID."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.stock_file = workdir / "stock.json"
        self._gone = workdir / "stock.json.gone"
        argv = [sys.executable, str(CODE), "--host", HOST, "--port", str(self.port)]
        argv += ["--stock-file", str(self.stock_file)]
        self.process = Process("inventory-api", argv, workdir / "inventory-api.log")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stock_file.write_text(json.dumps(STOCK), encoding="utf-8")
        self.process.start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/healthz"))

    def stop(self) -> None:
        self.process.stop()

    def port_map(self) -> dict[int, int]:
        """Manifest port -> local port: each container port of the Deployment, where it listens here."""
        containers = deployment()["spec"]["template"]["spec"]["containers"]
        return {port["containerPort"]: self.port for c in containers for port in c.get("ports", [])}

    @property
    def broken(self) -> bool:
        return not self.stock_file.exists()

    def take_stock_file_away(self) -> None:
        self.stock_file.rename(self._gone)

    def put_stock_file_back(self) -> None:
        self._gone.rename(self.stock_file)
