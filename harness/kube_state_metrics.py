"""The real kube-state-metrics (scripts/go-tools.sh builds the cluster's release) run for its pod on the
simulated cluster (harness/cluster.py): the container's own arguments, its service account's token (a
TokenRequest, as the kubelet projects it) and the cluster's CA in a kubeconfig instead of the in-cluster
files, listening on the pod's loopback IP at the ports its arguments name. What it may read is then what
its RBAC grants, proven by use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from harness.cluster import VENV_BIN, ClusterError, SimulatedCluster
from harness.lifecycle import StartStop
from harness.stack import Process, http_ok

KUBE_STATE_METRICS = Path(os.environ.get("KUBE_STATE_METRICS_BIN", str(VENV_BIN / "kube-state-metrics")))
Manifest = dict[str, Any]


def release(*, binary: Path = KUBE_STATE_METRICS) -> str:
    """The release the binary was built from: `version` prints `kube-state-metrics, version v2.19.1 ...`."""
    if not binary.is_file():
        raise ClusterError(f"{binary} not found: run `make go-tools` (it builds kube-state-metrics)")
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=False, timeout=60)
    fields = (out.stdout + out.stderr).replace(",", " ").split()
    if fields[:2] != ["kube-state-metrics", "version"] or len(fields) < 3:
        raise ClusterError(f"`{binary} version` did not name a release: {out.stdout}{out.stderr}")
    return fields[2]


def _port(args: list[str], flag: str) -> int:
    (value,) = [a.split("=", 1)[1] for a in args if a.startswith(f"{flag}=")]
    return int(value)


class KubeStateMetrics(StartStop):
    """kube-state-metrics for `pod` (a Running pod of its Deployment) on `cluster`, files in `workdir`."""

    def __init__(self, *, cluster: SimulatedCluster, pod: Manifest, workdir: Path) -> None:
        (container,) = pod["spec"]["containers"]
        self.args: list[str] = list(container["args"])
        self.host: str = pod["status"]["podIP"]
        self.url = f"http://{self.host}:{_port(self.args, '--port')}"
        self.telemetry_url = f"http://{self.host}:{_port(self.args, '--telemetry-port')}"
        self.cluster = cluster
        self.namespace: str = pod["metadata"]["namespace"]
        self.service_account: str = pod["spec"]["serviceAccountName"]
        self.workdir = workdir
        self.process: Process | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        token = self.cluster.service_account_token(namespace=self.namespace, name=self.service_account)
        kubeconfig = self.workdir / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "sim",
                            "cluster": {
                                "server": self.cluster.server,
                                "certificate-authority": str(self.cluster.ca_file),
                            },
                        }
                    ],
                    "users": [{"name": self.service_account, "user": {"token": token}}],
                    "contexts": [
                        {"name": "sim", "context": {"cluster": "sim", "user": self.service_account}}
                    ],
                    "current-context": "sim",
                }
            )
        )
        kubeconfig.chmod(0o600)
        argv = [
            str(KUBE_STATE_METRICS),
            *self.args,
            f"--kubeconfig={kubeconfig}",
            f"--host={self.host}",
            f"--telemetry-host={self.host}",
        ]
        self.process = Process("kube-state-metrics", argv, self.workdir / "kube-state-metrics.log")
        self.process.start()
        # Ready once every informer has listed its resource: a missing RBAC grant keeps it unready.
        self.process.wait_ready(lambda: http_ok(f"{self.telemetry_url}/readyz"), attempts=600)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=20)

    def page(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=30).raise_for_status().text

    def samples(self, *, telemetry: bool = False) -> list[Sample]:
        """Every series on its metrics page (with `telemetry`: on its own, the self-metrics page)."""
        page = (
            httpx.get(f"{self.telemetry_url}/metrics", timeout=30).raise_for_status().text
            if telemetry
            else self.page()
        )
        return [s for family in text_string_to_metric_families(page) for s in family.samples]

    def family_names(self) -> set[str]:
        """Every series name the page declares (`# TYPE`), with series or not (the parser names a counter's
        family without its `_total`, which its samples carry)."""
        return {
            f"{family.name}_total" if family.type == "counter" else family.name
            for family in text_string_to_metric_families(self.page())
        }
