"""The metrics pipeline on the simulated cluster: the charts applied to a real API server, their pods made by
the real controllers, placed by the real scheduler and run by kwok with loopback IPs, and each real process
listening on its pod's IP and container port.

    simulated cluster ◀── Kubernetes discovery ── Prometheus agent ──remote write──▶ receiver
    (harness/cluster.py)                         (the cluster's release,   (the same release,
      pods: orders API ───────── Postgres          generated config)        AMP's stand-in)
            postgres-exporter ── Postgres
            node-exporter (one per node)
            prometheus-agent (the agent itself)

The agent runs the generated configuration with two substitutions: `harness.cluster.against` (the API
server's address and the service account's credentials) and `for_local_receiver` (the local receiver
instead of AMP, without SigV4). Discovery, relabeling, keep-lists and limits run as in the cluster.

What has no process here is discovered and scraped, and is down: the kubelets' and cAdvisor's port (no
kubelet), kube-state-metrics' pod, and the API server, which publishes a TEST-NET address
(`harness.cluster.ADVERTISE_ADDRESS`: EndpointSlices refuse loopback addresses).

Every process is started here and stopped here, by its own PID.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness import manifests
from harness.cluster import ADDON_KINDS, WORKLOAD_KINDS, SimulatedCluster, SimulatedNode, against
from harness.kubelet import Kubelet, Synced
from harness.lifecycle import StartStop, stop_all
from harness.postgres import LocalPostgres, free_port
from harness.proxy import DelayProxy
from harness.stack import (
    APP_DATABASE,
    APP_PASSWORD,
    APP_ROLE,
    HOST,
    Process,
    Prometheus,
    for_local_receiver,
    http_ok,
    node_exporter,
    orders_api,
    postgres_exporter,
)
from observability import names
from observability.render import scrape_config
from webapp.orders_api import slo_contract

Manifest = dict[str, Any]
# Applied before the rest: what the other objects live in or refer to (as the stacks order them).
FIRST_KINDS = ("Namespace", "PriorityClass")
AGENT_ACCOUNT = {"namespace": names.MONITORING_NAMESPACE, "name": names.PROMETHEUS_AGENT}


def loopback_nodes() -> tuple[SimulatedNode, SimulatedNode]:
    """Two nodes in a 127.X.0.0/16 of their own, X drawn per cluster: two runs on one machine (another
    session's tests) do not share pod IPs, whose ports are the charts' fixed ones. X avoids 127.0-3 (the
    default loopback address and harness.cluster's defaults)."""
    octet = 16 + secrets.randbelow(234)  # 16-249
    return (
        SimulatedNode(name="kwok-node-a", ip=f"127.{octet}.0.1", pod_cidr=f"127.{octet}.1.0/24"),
        SimulatedNode(
            name="kwok-node-b", ip=f"127.{octet}.0.2", pod_cidr=f"127.{octet}.2.0/24", zone="sim-zone-b"
        ),
    )


def apply_charts(cluster: SimulatedCluster, charts: manifests.Manifests) -> None:
    """The charts' objects, server-side applied: namespaces and priority classes first (each namespace once
    the service-account controller has added its `default` service account), then everything but the
    workloads, then the workloads once every selecting Service has its EndpointSlice.

    That wait keeps the slices the same in every run. The API server refuses loopback addresses in a slice,
    and every simulated pod IP is one. The EndpointSlice controller first syncs a Service whose pods have no
    IP yet with an empty placeholder slice, which then stays (each update that would add a pod is refused).
    If it first syncs the Service once a pod has its IP, the create is refused and no slice exists at all."""
    objects = [o for o in charts.objects if (o["apiVersion"], o["kind"]) not in ADDON_KINDS]
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    others = [o for o in objects if o["kind"] not in WORKLOAD_KINDS]
    for obj in sorted(others, key=lambda o: o["kind"] not in FIRST_KINDS):
        cluster.apply(obj)
        if obj["kind"] == "Namespace":
            cluster.wait_default_service_account(obj["metadata"]["name"])
    for service in [o for o in objects if o["kind"] == "Service" and o["spec"].get("selector")]:
        cluster.wait_endpoint_slice(
            namespace=service["metadata"].get("namespace", "default"), service=service["metadata"]["name"]
        )
    for workload in workloads:
        cluster.apply(workload)


def run_pods(cluster: SimulatedCluster, pods: list[Manifest]) -> list[Manifest]:
    """Bare `pods` (no controller) created through the API (admission judges them) and made Running by
    kwok, in their order."""
    created = [cluster.create_pod(pod) for pod in pods]
    running: dict[tuple[str, str], Manifest] = {}
    for namespace in {p["metadata"]["namespace"] for p in created}:
        names_here = [p["metadata"]["name"] for p in created if p["metadata"]["namespace"] == namespace]
        running |= {
            (namespace, p["metadata"]["name"]): p
            for p in cluster.wait_running(namespace=namespace, names=names_here)
        }
    return [running[(p["metadata"]["namespace"], p["metadata"]["name"])] for p in created]


def pod_of(cluster: SimulatedCluster, workload: Manifest, *, name: str) -> Manifest:
    """A bare pod from `workload`'s template named `name`, not created yet: what a team's pod may look like.
    It names the first node (`nodeName`: the scheduler leaves it there)."""
    template = copy.deepcopy(workload["spec"]["template"])
    metadata = template.get("metadata", {}) | {
        "name": name,
        "namespace": workload["metadata"].get("namespace", "default"),
    }
    spec = template["spec"] | {"nodeName": cluster.nodes[0].name}
    # A StatefulSet's template mounts its claim templates' volumes: the pod names its claims as the
    # controller would (`<template>-<pod>`); nothing binds them (kwok runs the pod regardless).
    claims = [
        {
            "name": claim["metadata"]["name"],
            "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{name}"},
        }
        for claim in workload["spec"].get("volumeClaimTemplates", [])
    ]
    if claims:
        spec["volumes"] = [*spec.get("volumes", []), *claims]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _url(pod: Manifest, port: int) -> str:
    return f"http://{pod['status']['podIP']}:{port}"


class ClusterStack(StartStop):
    """The simulated cluster with `charts` applied and their pods Running; Postgres, the orders API,
    postgres-exporter, one node-exporter per node and the receiver started on their pods' addresses.
    Agents are added with `start_agent`. Stops agents first (an agent stopped while its receiver is down
    spends a minute trying to flush), then the receiver, the processes, Postgres and the cluster."""

    def __init__(self, workdir: Path, *, charts: manifests.Manifests, db_proxy: bool = False) -> None:
        """With `db_proxy`, the orders API reaches Postgres through a `DelayProxy` (`self.db_proxy`)."""
        self.workdir = workdir
        self.charts = charts
        self.cluster = SimulatedCluster(nodes=loopback_nodes())
        self.pods: dict[str, list[Manifest]] = {}  # workload name -> its Running pods
        self.pg: LocalPostgres | None = None
        self.db_proxy: DelayProxy | None = None
        self._want_db_proxy = db_proxy
        self.processes: dict[str, Process] = {}  # those of pods that never move (Postgres's, the nodes')
        # The pods that do move (replaced, drained, scaled), run as a kubelet would: the orders API's, and
        # the first agent's.
        self.kubelet = Kubelet()
        self.agents: dict[str, Prometheus] = {}
        self._database: tuple[str, int] = (HOST, 0)  # where the orders API connects to
        self.receiver = Prometheus.receiver(workdir / "receiver")

    # -- start ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cluster.start()
        apply_charts(self.cluster, self.charts)
        for workload in self.charts.workloads():
            self.pods[workload["metadata"]["name"]] = self.cluster.run_workload(workload)
        self._start_postgres()
        self._start_processes()
        self.receiver.start_ready()

    def pod_ip(self, workload: str) -> str:
        """The IP of `workload`'s one pod."""
        (pod,) = self.pods[workload]
        return str(pod["status"]["podIP"])

    def _start_postgres(self) -> None:
        """Postgres on its pod's IP and port, with the app's role and database."""
        self.pg = LocalPostgres(host=self.pod_ip(names.POSTGRES), port=names.POSTGRES_PORT)
        self.pg.start()
        self.pg.create_role(APP_ROLE, APP_PASSWORD)
        self.pg.create_database(APP_DATABASE, APP_ROLE)
        if self._want_db_proxy:
            self.db_proxy = DelayProxy(self.pg.port, upstream_host=self.pg.host)
            self.db_proxy.start()

    def _start_processes(self) -> None:
        assert self.pg is not None
        password_file = self.workdir / "db-password"
        password_file.write_text(APP_PASSWORD + "\n")
        password_file.chmod(0o600)
        self._database = (self.pg.host, self.pg.port)
        if self.db_proxy is not None:
            self._database = (HOST, self.db_proxy.port)
        self.kubelet.run(names.WEBAPP, self._orders_api, self.pods[names.WEBAPP])
        exporter = f"{self.pod_ip(names.POSTGRES)}:{names.POSTGRES_EXPORTER_PORT}"
        self._add(
            postgres_exporter(
                self.workdir,
                listen=exporter,
                database=f"{self.pg.host}:{self.pg.port}",
                password_file=password_file,
            ),
            f"http://{exporter}/metrics",
        )
        for pod in self.pods[names.NODE_EXPORTER]:  # host network: the node's IP
            ip, node = pod["status"]["podIP"], pod["spec"]["nodeName"]
            self._add(
                node_exporter(self.workdir, names.NODE_EXPORTER_PORT, host=ip, name=f"node-exporter-{node}"),
                f"http://{ip}:{names.NODE_EXPORTER_PORT}/metrics",
            )

    def _add(self, process: Process, ready_url: str) -> None:
        self.processes[process.name] = process
        process.start()
        process.wait_ready(lambda: http_ok(ready_url))

    def _orders_api(self, pod: Manifest) -> tuple[Process, str]:
        """The orders API's container for `pod`: on its IP and the app's port, its log in its own folder."""
        workdir = self.workdir / "pods" / pod["metadata"]["name"]
        workdir.mkdir(parents=True, exist_ok=True)
        url = _url(pod, slo_contract.APP_PORT)
        listen = (pod["status"]["podIP"], slo_contract.APP_PORT)
        process = orders_api(
            workdir, listen=listen, database=self._database, password_file=self.workdir / "db-password"
        )
        return process, f"{url}/readyz"

    @property
    def app_urls(self) -> list[str]:
        """The orders API where each of its pods serves, by pod name."""
        return [_url(pod, slo_contract.APP_PORT) for pod, _ in self.kubelet.processes(names.WEBAPP)]

    @property
    def app_url(self) -> str:
        """Where the orders API's first pod (by name) serves."""
        return self.app_urls[0]

    def follow(self, workload: str, *, wait: bool = True) -> Synced | None:
        """`workload`'s Running pods, once its controller has rolled it out again (ClusterError if not in
        START_TIMEOUT_SECONDS), or without `wait` as they are now; the processes of those the kubelet runs
        follow them (what it did, else None)."""
        (template,) = [w for w in self.charts.workloads() if w["metadata"]["name"] == workload]
        if wait:
            self.pods[workload] = self.cluster.run_workload(template)
        else:
            self.pods[workload] = [
                p
                for p in self.cluster.selected_pods(template)
                if p.get("status", {}).get("phase") == "Running" and p["status"].get("podIP")
            ]
        return self.kubelet.sync(workload, self.pods[workload]) if self.kubelet.runs(workload) else None

    def add_pod(self, workload: str, *, name: str, annotations: Mapping[str, str]) -> Manifest:
        """One more pod from `workload`'s template, named `name`, with `annotations` added; Running."""
        (template,) = [w for w in self.charts.workloads() if w["metadata"]["name"] == workload]
        pod = pod_of(self.cluster, template, name=name)
        pod["metadata"]["annotations"] = dict(pod["metadata"].get("annotations", {})) | dict(annotations)
        (running,) = run_pods(self.cluster, [pod])
        return running

    def start_agent(self, name: str, config: Mapping[str, Any]) -> Prometheus:
        """An agent of the cluster's Prometheus release running `config` (the generated one) against the
        simulated cluster as the agent's service account. The first runs in the agent's pod (the kubelet
        moves it with its pod, keeping its WAL), on its IP and port (it scrapes itself there): `agents[name]`
        is its current process. Later ones listen on 127.0.0.1, and their `prometheus-agent` job scrapes
        the first."""
        workdir = self.workdir / name
        workdir.mkdir(parents=True, exist_ok=True)
        token = self._write_token(name)
        local = for_local_receiver(
            against(config, cluster=self.cluster, token_file=token), self.receiver.remote_write_url
        )
        text = scrape_config.render(local)

        def agent(host: str, port: int) -> Prometheus:
            self.agents[name] = Prometheus.agent(workdir, text, port=port, name=name, host=host)
            return self.agents[name]

        if self.agents:
            agent(HOST, free_port()).start_ready()
            return self.agents[name]

        def container(pod: Manifest) -> tuple[Process, str]:
            process = agent(pod["status"]["podIP"], names.PROMETHEUS_PORT)
            return process, f"{process.url}/-/ready"

        self.pod_ip(names.PROMETHEUS_AGENT)  # one pod: one agent in it
        self.kubelet.run(names.PROMETHEUS_AGENT, container, self.pods[names.PROMETHEUS_AGENT])
        return self.agents[name]

    def _write_token(self, agent: str) -> Path:
        """A new token of the agent's service account in `agent`'s token file, replaced in one step."""
        token = self.workdir / agent / "token"
        fresh = token.with_suffix(".new")
        fresh.write_text(self.cluster.service_account_token(**AGENT_ACCOUNT))
        fresh.replace(token)
        return token

    def renew_tokens(self) -> None:
        """New tokens for every agent: a TokenRequest's expires after an hour (the kubelet renews a pod's
        before), and an agent reads its token file on each request. For runs longer than that."""
        for name in self.agents:
            self._write_token(name)

    # -- stop ----------------------------------------------------------------------------------------
    def stop(self) -> None:
        steps: list[Callable[[], None]] = [agent.stop for agent in self.agents.values()]
        steps += [self.receiver.stop, self.kubelet.stop, *(p.stop for p in self.processes.values())]
        if self.db_proxy is not None:
            steps.append(self.db_proxy.stop)
        if self.pg is not None:
            steps.append(self.pg.cleanup)
        steps.append(self.cluster.stop)
        stop_all(steps)
