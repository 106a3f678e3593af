"""The simulated cluster grown to many nodes and pods for the sizing benchmark (`make scale`): the parts of
harness/cluster.py (etcd, kube-apiserver, kwok) with N nodes, the platform's charts with their workloads
scaled (the orders API's replicas, an unscraped filler Deployment), the real kube-state-metrics, and one
process serving every other target at its node's or pod's address with a canned page.

    kube-apiserver ◀── discovery (node, pod roles) ── Prometheus agent(s) ──remote write──▶ sink
    kwok: N nodes, P pods                                  │ scrapes
    kube-state-metrics (real) ◀────────────────────────────┤
    CannedTargets (one uvicorn process-thread, many sockets): node-exporter at each node:9100,
      kubelet/cAdvisor at each node:10250 (TLS), orders API at each replica's pod IP, postgres-exporter

Node addresses are 127.X.0.0/16 and each node's pods a /24 of 127.(X+1..X+2): loopback, so one process can
bind every address (the node and pod roles accept loopback addresses; EndpointSlices refuse them, so no
target here is found through an EndpointSlice except the API server, which `with_apiserver_target` pins).
Every socket and process is opened here and closed here.
"""

from __future__ import annotations

import asyncio
import copy
import math
import secrets
import socket
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
import uvloop

from harness.cluster import SimulatedNode
from harness.lifecycle import StartStop
from harness.postgres import free_port
from observability import catalog
from observability.jobs import ScrapeJob, Unit

HOST = "127.0.0.1"
# Not a series name any keep-list lets through: the part of a target's page the keep rule drops.
DROPPED_SERIES = "scale_sim_unkept_series"


def scaled_nodes(count: int) -> list[SimulatedNode]:
    """`count` nodes (at most 500): InternalIPs in 127.X.0.0/16, pod CIDRs the /24s of 127.(X+1).0.0/15,
    X drawn per run (as harness.cluster_stack.loopback_nodes) so two runs on one machine differ."""
    if not 1 <= count <= 500:
        raise ValueError(f"1-500 nodes (got {count})")
    octet = 16 + 3 * secrets.randbelow(77)  # 16-244, X+1 and X+2 below 256
    return [
        SimulatedNode(
            name=f"kwok-node-{i:03d}",
            ip=f"127.{octet}.{i // 250}.{i % 250 + 1}",
            pod_cidr=f"127.{octet + 1 + i // 256}.{i % 256}.0/24",
        )
        for i in range(count)
    ]


def per_target(series: Mapping[Unit, float], units: Mapping[Unit, float]) -> float:
    """Series of one target from a job table estimate: each unit's series times its count per target."""
    return sum(per_unit * units[unit] for unit, per_unit in series.items())


def estimated_page(job: ScrapeJob, *, kept: int, unfiltered: int) -> bytes:
    """An exposition with `kept` series the job's keep rule lets through (its names in turn, no histogram
    buckets, whose `le` the rule trims) and `unfiltered - kept` it drops."""
    kept_names = [n for n in job.series if not n.endswith("_bucket") and n not in catalog.SYNTHETIC_SERIES]
    lines = [f'{kept_names[i % len(kept_names)]}{{id="/sim/{i}"}} 1' for i in range(kept)]
    lines += [f'{DROPPED_SERIES}{{id="/sim/{i}"}} 1' for i in range(max(unfiltered - kept, 0))]
    return ("\n".join(lines) + "\n").encode()


def shards_needed(*, series: float, bytes_per_series: float, base_bytes: float, ceiling_bytes: float) -> int:
    """Shards (agents splitting the targets) so that each agent's memory, `base_bytes` plus
    `bytes_per_series` for its share of `series`, stays under `ceiling_bytes`."""
    room = ceiling_bytes - base_bytes
    if room <= 0:
        raise ValueError("the ceiling leaves no room above the agent's base memory")
    return max(1, math.ceil(series * bytes_per_series / room))


# DaemonSet mode: the discovery roles the API server can limit to one node by a field selector (pods by
# `spec.nodeName`, nodes by `metadata.name`: Prometheus's `selectors`, filtered server-side).
NODE_FIELDS = {"pod": "spec.nodeName", "node": "metadata.name"}


def split_per_node(config: Mapping[str, Any], *, node: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """DaemonSet mode, for the sizing comparison: (the agent on `node`, the one cluster-wide agent). A job
    whose discovery lists pods or nodes runs on every node's agent, limited to that node's objects by a
    field selector; a job with any other discovery (EndpointSlices: the API server, annotated Services,
    which no field limits to a node) or static targets stays on the cluster-wide agent."""
    local, central = copy.deepcopy(dict(config)), copy.deepcopy(dict(config))
    local["scrape_configs"], central["scrape_configs"] = [], []
    for job in config["scrape_configs"]:
        discoveries = job.get("kubernetes_sd_configs", [])
        if discoveries and all(d["role"] in NODE_FIELDS for d in discoveries):
            job = copy.deepcopy(job)
            for d in job["kubernetes_sd_configs"]:
                d["selectors"] = [{"role": d["role"], "field": f"{NODE_FIELDS[d['role']]}={node}"}]
            local["scrape_configs"].append(job)
        else:
            central["scrape_configs"].append(copy.deepcopy(job))
    return local, central


@dataclass(frozen=True)
class Fit:
    """Agent memory as `base_bytes + bytes_per_series x series`, fitted by least squares."""

    base_bytes: float
    bytes_per_series: float


def fit(points: list[tuple[float, float]]) -> Fit:
    """Least-squares line through (series, bytes) points (at least two different series counts)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        raise ValueError("need two different series counts to fit a line")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    return Fit(base_bytes=mean_y - slope * mean_x, bytes_per_series=slope)


class CannedTargets(StartStop):
    """Serves `pages[(ip, port)][path]` at each address (TLS, self-signed, on `tls_ports`: the
    agent's kubelet jobs skip verification) and accepts remote writes on `sink_url` (drained, 204): one
    uvicorn event loop in a thread, one listening socket per address."""

    def __init__(
        self,
        *,
        pages: Mapping[tuple[str, int], Mapping[str, bytes]],
        tls_ports: frozenset[int],
        workdir: Path,
    ) -> None:
        self.pages = dict(pages)
        self.tls_ports = tls_ports
        self.workdir = workdir
        self.sink_port = free_port()
        self.sink_url = f"http://{HOST}:{self.sink_port}/api/v1/write"
        self._servers: list[uvicorn.Server] = []
        self._sockets: list[socket.socket] = []
        self._thread: threading.Thread | None = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "POST":  # remote write: read it whole, keep nothing
            while (await receive()).get("more_body"):
                pass
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body = self.pages.get(tuple(scope["server"]), {}).get(scope["path"])
        headers = [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")]
        await send(
            {"type": "http.response.start", "status": 404 if body is None else 200, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body or b""})

    def _bind(self, address: tuple[str, int]) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        self._sockets.append(sock)
        return sock

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        key, cert = self.workdir / "tls.key", self.workdir / "tls.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=kwok-kubelet", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        plain = [self._bind((HOST, self.sink_port))]
        plain += [self._bind(a) for a in self.pages if a[1] not in self.tls_ports]
        tls = [self._bind(a) for a in self.pages if a[1] in self.tls_ports]
        common: dict[str, Any] = {
            "interface": "asgi3",
            "lifespan": "off",
            "log_level": "warning",
            "access_log": False,
        }
        common |= {"http": "httptools", "backlog": 4096, "timeout_keep_alive": 120}
        self._servers = [uvicorn.Server(uvicorn.Config(self._app, **common))]
        if tls:
            config = uvicorn.Config(self._app, ssl_keyfile=str(key), ssl_certfile=str(cert), **common)
            self._servers.append(uvicorn.Server(config))

        async def serve() -> None:
            groups = [plain, tls] if tls else [plain]
            await asyncio.gather(*(s.serve(sockets=g) for s, g in zip(self._servers, groups, strict=True)))

        self._thread = threading.Thread(target=uvloop.run, args=(serve(),), daemon=True)
        self._thread.start()
        for server in self._servers:
            while not server.started:
                if not self._thread.is_alive():
                    raise RuntimeError("the canned targets' server stopped while starting")
                self._thread.join(timeout=0.1)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        for sock in self._sockets:
            sock.close()
