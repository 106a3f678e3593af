"""Sizing by simulation: the agent's series, memory and CPU on simulated clusters of N nodes.

Per N: a simulated cluster of real parts (etcd, kube-apiserver at the cluster's release, kwok) with N nodes
and the platform's charts, the orders API at `--app-pods-per-node` replicas per node and an unscraped
filler Deployment at `--idle-pods-per-node`; the real kube-state-metrics; every other target served by one
process with the page measured for its kind (node-exporter, the orders API after `make cost`'s request
mix, postgres-exporter: captured from the real processes of harness/stack.py; kubelet and cAdvisor: the
job table's estimates, which `make cost` uses too). The real agent (Prometheus at the cluster's release,
agent mode, the generated configuration with its real Kubernetes discovery against the simulated API
server) scrapes them and remote-writes to a sink that keeps nothing. Time is scaled down, not series:
below 500 nodes the agent scrapes every 10 s (the cluster: 30 s), from 500 nodes at 30 s; CPU is also
given at 30 s.

    make scale        # or: .venv/bin/python scripts/scale.py --nodes 10 50 200 500
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "webapp"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import httpx  # noqa: E402

from config.monitoring import MonitoringConfig  # noqa: E402
from harness import manifests  # noqa: E402
from harness.cluster import (  # noqa: E402
    START_TIMEOUT_SECONDS,
    SimulatedCluster,
    against,
    wait_until,
    with_apiserver_target,
)
from harness.cluster_stack import AGENT_ACCOUNT, ClusterStack, apply_charts  # noqa: E402
from harness.kube_state_metrics import KubeStateMetrics  # noqa: E402
from harness.lifecycle import unwind_on_sigterm  # noqa: E402
from harness.postgres import free_port  # noqa: E402
from harness.scale import (  # noqa: E402
    CannedTargets,
    estimated_page,
    fit,
    per_target,
    scaled_nodes,
    shards_needed,
    split_per_node,
)
from harness.stack import HOST, Prometheus, for_local_receiver, generated_config  # noqa: E402
from observability import jobs, names  # noqa: E402
from observability.jobs import Unit  # noqa: E402
from observability.render import scrape_config  # noqa: E402
from scripts import cost  # noqa: E402 - the request mix, AMP's pricing
from webapp.orders_api import slo_contract  # noqa: E402

Manifest = dict[str, Any]
CLUSTER_INTERVAL = MonitoringConfig().scrape_interval_seconds
MiB = 2**20
# Planned steady-state RSS per agent: half of a 2 GiB limit, the other half for what a short run does not
# show (the Go heap grows to 2x the live set between collections; WAL replay after a restart; a backlog
# after an AMP outage) — docs/sizing.md.
MEMORY_CEILING = 1024 * MiB
KUBELET_PORT = 10250
IDLE = "scale-idle"
DEFAULT_INTERVAL = 10
FULL_TIME_NODES = 500  # from here on the runs scrape at the cluster's interval (docs/sizing.md)
WINDOW_SCRAPES = 6  # CPU measured over this many scrape intervals, once the series count is stable


def local_pages(workdir: Path) -> dict[str, bytes]:
    """The pages of the real node-exporter, orders API (after `make cost`'s request mix) and
    postgres-exporter, from harness/stack.py's processes."""
    with ClusterStack(workdir, charts=manifests.synthesize(agent_replicas=1)) as stack:
        cost.exercise(stack.app_url)
        node_ip = stack.pods[names.NODE_EXPORTER][0]["status"]["podIP"]  # host network: the node's IP
        addresses = {
            "node-exporter": f"{node_ip}:{names.NODE_EXPORTER_PORT}",
            "app": stack.app_url.removeprefix("http://"),
            "postgres-exporter": f"{stack.pod_ip(names.POSTGRES)}:{names.POSTGRES_EXPORTER_PORT}",
        }
        return {
            kind: httpx.get(f"http://{address}/metrics", timeout=10).content
            for kind, address in addresses.items()
        }


def idle_deployment(replicas: int) -> Manifest:
    labels = {names.NAME_LABEL: IDLE}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": IDLE, "namespace": "default", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }


def scaled_charts(*, app_pods: int, idle_pods: int) -> manifests.Manifests:
    """The platform's charts (one agent pod: the shards' agents run beside it) with the orders API at
    `app_pods` replicas, plus the filler Deployment."""
    objects = [copy.deepcopy(o) for o in manifests.synthesize(agent_replicas=1).objects]
    for obj in objects:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == names.WEBAPP:
            obj["spec"]["replicas"] = app_pods
    return manifests.Manifests(objects=(*objects, idle_deployment(idle_pods)))


@dataclass(frozen=True)
class AgentRun:
    active_series: int
    rss_bytes: int  # the largest process_resident_memory_bytes in the window
    heap_bytes: int  # the largest go_memstats_heap_inuse_bytes
    cpu_cores: float  # process_cpu_seconds_total over the window / the window
    targets_up: int
    targets_down: dict[str, str]  # job -> one target's last error
    role: str = ""  # "shard 0", "node kwok-node-003", "cluster-wide"


@dataclass(frozen=True)
class Run:
    nodes: int
    pods: int
    agents: list[AgentRun]
    seconds: float
    interval: int  # the run's scrape interval, seconds


def own_metric(agent: Prometheus, name: str) -> float:
    """One of the agent's own series, waiting up to a minute: a saturated agent answers late."""
    for line in httpx.get(f"{agent.url}/metrics", timeout=60).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)


def target_pages(cluster_pods: list[Manifest], nodes: int, pages: dict[str, bytes]) -> dict[Any, Any]:
    """(address, port) -> {path: page} for every target but kube-state-metrics, the agent and the API
    server: each node's node-exporter, kubelet and cAdvisor; each orders API replica; each opted-in pod."""
    containers = sum(len(p["spec"]["containers"]) for p in cluster_pods)
    units = {
        Unit.TARGET: 1,
        Unit.NODE: 1,
        Unit.POD: len(cluster_pods) / nodes,
        Unit.CONTAINER: containers / nodes,
    }
    units[Unit.PVC] = (
        sum(1 for p in cluster_pods for v in p["spec"].get("volumes", []) if "persistentVolumeClaim" in v)
        / nodes
    )
    node_pages = {"/metrics/cadvisor": b"", "/metrics": b""}
    for job_name, path in ((jobs.KUBELET, "/metrics"), (jobs.CADVISOR, "/metrics/cadvisor")):
        job = jobs.BY_NAME[job_name]
        assert job.estimate is not None
        kept, everything = per_target(job.estimate.kept, units), per_target(job.estimate.unfiltered, units)
        node_pages[path] = estimated_page(job, kept=round(kept), unfiltered=round(everything))
    routes: dict[Any, Any] = {}
    for pod in cluster_pods:
        ip, labels = pod["status"]["podIP"], pod["metadata"].get("labels", {})
        annotations = pod["metadata"].get("annotations", {})
        if labels.get(names.NAME_LABEL) == names.NODE_EXPORTER:  # host network: the node's address
            routes[(ip, names.NODE_EXPORTER_PORT)] = {"/metrics": pages["node-exporter"]}
            routes[(ip, KUBELET_PORT)] = node_pages
        elif labels.get(names.NAME_LABEL) == names.WEBAPP:
            routes[(ip, slo_contract.APP_PORT)] = {"/metrics": pages["app"]}
        elif annotations.get(names.SCRAPE_ANNOTATION) == "true":
            path = annotations.get(names.SCRAPE_PATH_ANNOTATION, "/metrics")
            routes[(ip, int(annotations[names.SCRAPE_PORT_ANNOTATION]))] = {path: pages["postgres-exporter"]}
    return routes


def measure_agents(agents: list[Prometheus], interval: int, roles: Sequence[str]) -> list[AgentRun]:
    """Once every target was scraped and the active series stayed the same over two scrapes: each agent's
    memory (largest in the window) and CPU over WINDOW_SCRAPES intervals."""
    previous: list[float] = []

    def stable() -> bool:
        now = [own_metric(a, "prometheus_agent_active_series") for a in agents]
        done = now == previous and all(now)
        previous[:] = now
        return done

    if not wait_until(stable, timeout=60 * interval, interval=interval):
        raise RuntimeError(f"active series did not settle: {previous}")
    cpu0, t0 = [own_metric(a, "process_cpu_seconds_total") for a in agents], time.monotonic()
    rss, heap = [0.0] * len(agents), [0.0] * len(agents)
    for _ in range(WINDOW_SCRAPES):
        time.sleep(interval)
        for i, a in enumerate(agents):
            rss[i] = max(rss[i], own_metric(a, "process_resident_memory_bytes"))
            heap[i] = max(heap[i], own_metric(a, "go_memstats_heap_inuse_bytes"))
    elapsed = time.monotonic() - t0
    runs = []
    for i, a in enumerate(agents):
        # The targets API answers slowly with thousands of targets on a busy machine.
        answer = httpx.get(f"{a.url}/api/v1/targets", params={"state": "active"}, timeout=120).json()
        active = answer["data"]["activeTargets"]
        down = {t["labels"]["job"]: t["lastError"] for t in active if t["health"] != "up"}
        runs.append(
            AgentRun(
                active_series=int(own_metric(a, "prometheus_agent_active_series")),
                rss_bytes=int(rss[i]),
                heap_bytes=int(heap[i]),
                cpu_cores=(own_metric(a, "process_cpu_seconds_total") - cpu0[i]) / elapsed,
                targets_up=sum(t["health"] == "up" for t in active),
                targets_down=down,
                role=roles[i],
            )
        )
    return runs


def measure_cluster(
    workdir: Path,
    *,
    nodes: int,
    shards: int,
    interval: int,
    args: argparse.Namespace,
    pages: dict[str, bytes],
    daemonset: bool = False,
) -> Run:
    started = time.monotonic()
    charts = scaled_charts(app_pods=nodes * args.app_pods_per_node, idle_pods=nodes * args.idle_pods_per_node)
    with SimulatedCluster(nodes=scaled_nodes(nodes), at_scale=True) as cluster:
        cluster.add_default_service_account("default")
        apply_charts(cluster, charts)
        # The controllers create pods at the controller-manager's API rate (20 requests/s by default) and
        # kwok starts them in turn: half a second a pod on this machine, and the harness's timeout at least.
        pods = [
            pod
            for w in charts.workloads()
            for pod in cluster.run_workload(
                w, timeout=max(START_TIMEOUT_SECONDS, 0.5 * w["spec"].get("replicas", nodes))
            )
        ]
        (ksm_pod,) = [
            p for p in pods if p["metadata"]["labels"].get(names.NAME_LABEL) == names.KUBE_STATE_METRICS
        ]
        (agent_pod,) = [
            p for p in pods if p["metadata"]["labels"].get(names.NAME_LABEL) == names.PROMETHEUS_AGENT
        ]
        canned = CannedTargets(
            pages=target_pages(pods, nodes, pages),
            tls_ports=frozenset({KUBELET_PORT}),
            workdir=workdir / "canned",
        )
        workdir.mkdir(parents=True, exist_ok=True)
        token = workdir / "token"
        token.write_text(cluster.service_account_token(**AGENT_ACCOUNT))

        def local(config: dict[str, Any]) -> dict[str, Any]:
            prepared = against(config, cluster=cluster, token_file=token)
            return for_local_receiver(with_apiserver_target(prepared, cluster=cluster), canned.sink_url)

        # (name, configuration, address): the first listens where the agent's pod is (its own job finds it).
        plan: list[tuple[str, dict[str, Any], str]] = []
        if daemonset:
            generated = local(generated_config(cluster_name="scale", scrape_interval_seconds=interval))
            # The agents of three nodes: the agent's pod's, kube-state-metrics' (its ~15 series per pod
            # in the cluster land there), and one with neither; and the one cluster-wide agent.
            busy = [agent_pod["spec"]["nodeName"], ksm_pod["spec"]["nodeName"]]
            plain = next(n.name for n in cluster.nodes if n.name not in busy)
            holds: dict[str, list[str]] = {node: [] for node in [*busy, plain]}
            holds[busy[0]].append("the agent's pod")
            holds[busy[1]].append("kube-state-metrics")
            for node, what in holds.items():
                node_local, central = split_per_node(generated, node=node)
                host = agent_pod["status"]["podIP"] if not plan else HOST
                plan.append((f"node ({', '.join(what) or 'plain'})", node_local, host))
            plan.append(("cluster-wide", central, HOST))
        else:
            for shard in range(shards):
                config = generated_config(
                    cluster_name="scale", scrape_interval_seconds=interval, shard=shard, shards=shards
                )
                host = agent_pod["status"]["podIP"] if not plan else HOST
                plan.append((f"shard {shard}", local(config), host))
        with KubeStateMetrics(cluster=cluster, pod=ksm_pod, workdir=workdir / "ksm"), canned:
            agents: list[Prometheus] = []
            try:
                for i, (_, config, host) in enumerate(plan):
                    agent = Prometheus.agent(
                        workdir / f"agent-{i}",
                        scrape_config.render(config),
                        port=names.PROMETHEUS_PORT if i == 0 else free_port(),
                        name=f"agent-{i}",
                        host=host,
                    )
                    agents.append(agent)
                    agent.start_ready()
                measured = measure_agents(agents, interval, [role for role, _, _ in plan])
            finally:
                for agent in agents:
                    agent.stop()
    return Run(
        nodes=nodes,
        pods=len(pods),
        agents=measured,
        seconds=time.monotonic() - started,
        interval=interval,
    )


def config_bytes() -> int:
    """The size of the agent's configuration as the cluster gets it (discovery: independent of N)."""
    return len(
        scrape_config.render(
            generated_config(cluster_name="scale", scrape_interval_seconds=CLUSTER_INTERVAL)
        ).encode()
    )


def table(runs: Sequence[Run]) -> str:
    singles = [r for r in runs if len(r.agents) == 1]
    line = fit([(r.agents[0].active_series, r.agents[0].rss_bytes) for r in singles])
    per_month = cost.SECONDS_PER_MONTH / CLUSTER_INTERVAL
    size = config_bytes()
    out = [
        f"Agent memory fit (RSS, one agent): {line.base_bytes / MiB:,.0f} MiB + "
        f"{line.bytes_per_series:,.0f} bytes per active series; "
        f"ceiling {MEMORY_CEILING / MiB:,.0f} MiB RSS per agent.",
        "",
        "| nodes | pods | shard | targets up | active series | series / node | RSS MiB | heap in use MiB "
        f"| scrape interval s | CPU cores | CPU cores @ {CLUSTER_INTERVAL} s "
        f"| shards for {MEMORY_CEILING // MiB} MiB | config bytes | AMP samples / month | AMP $ / month |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        total = sum(a.active_series for a in r.agents)
        needed = shards_needed(
            series=total,
            bytes_per_series=line.bytes_per_series,
            base_bytes=line.base_bytes,
            ceiling_bytes=MEMORY_CEILING,
        )
        for i, a in enumerate(r.agents):
            samples = a.active_series * per_month
            out.append(
                f"| {r.nodes} | {r.pods} | {i + 1} of {len(r.agents)} | {a.targets_up} | {a.active_series:,} "
                f"| {a.active_series / r.nodes:,.0f} | {a.rss_bytes / MiB:,.0f} | {a.heap_bytes / MiB:,.0f} "
                f"| {r.interval} | {a.cpu_cores:.3f} | {a.cpu_cores * r.interval / CLUSTER_INTERVAL:.3f} "
                f"| {needed} | {size:,} "
                f"| {samples / 1e9:,.2f} B | ${cost.cost(samples):,.2f} |"
            )
    for r in runs:
        for i, a in enumerate(r.agents):
            for job, error in a.targets_down.items():
                out.append(f"\nN={r.nodes} agent {i + 1}: job {job} has targets down: {error}")
    out.append("\n" + "; ".join(f"N={r.nodes} x{len(r.agents)}: {r.seconds:.0f} s" for r in runs))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None, *, say: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 50, 200, 500])
    parser.add_argument(
        "--interval",
        type=int,
        help=f"the runs' scrape interval, seconds (default: {DEFAULT_INTERVAL}, the cluster's from "
        f"{FULL_TIME_NODES} nodes: a shared 2-core machine could not run 500 nodes at 10 s)",
    )
    parser.add_argument("--app-pods-per-node", type=int, default=4, help="orders API replicas per node")
    parser.add_argument("--idle-pods-per-node", type=int, default=5, help="unscraped pods per node")
    parser.add_argument("--two-shards-at-largest", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--daemonset",
        action="store_true",
        help="measure DaemonSet mode instead: per-node agents (node-local discovery), one cluster-wide agent",
    )
    parser.add_argument(
        "--earlier", type=Path, help="a log of an earlier run: its runs' JSON lines join the table"
    )
    args = parser.parse_args(argv)
    unwind_on_sigterm()  # a killed benchmark stops its clusters and agents too
    if args.daemonset:
        daemonset_mode(args, say=say)
        return
    if len(set(args.nodes)) < 2 and not args.earlier:
        parser.error("--nodes needs two sizes or more (or --earlier): the agent's memory is fitted as a line")
    say(f"machine: {platform.node()} {platform.machine()}, {platform.platform()}")
    runs: list[Run] = []
    if args.earlier:
        for text in args.earlier.read_text().splitlines():
            if text.startswith("{"):
                data = json.loads(text)
                data.setdefault("interval", DEFAULT_INTERVAL)  # logs from before the field
                runs.append(Run(**(data | {"agents": [AgentRun(**a) for a in data["agents"]]})))
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        pages = local_pages(Path(tmp) / "local")
        plan = [(n, 1) for n in args.nodes]
        if args.two_shards_at_largest:
            plan.append((max(args.nodes), 2))
        for nodes, shards in plan:
            interval = args.interval or (CLUSTER_INTERVAL if nodes >= FULL_TIME_NODES else DEFAULT_INTERVAL)
            result = measure_cluster(
                Path(tmp) / f"n{nodes}-s{shards}",
                nodes=nodes,
                shards=shards,
                interval=interval,
                args=args,
                pages=pages,
            )
            runs.append(result)
            series = [a.active_series for a in result.agents]
            rss = [round(a.rss_bytes / MiB) for a in result.agents]
            say(f"N={nodes} shards={shards}: {series} series, {rss} MiB RSS, {result.seconds:.0f} s")
            say(json.dumps(dataclasses.asdict(result)))
    say(table(runs))


def daemonset_mode(args: argparse.Namespace, *, say: Callable[[str], None]) -> None:
    """Per N: the agents of three nodes (the agent's pod's, kube-state-metrics', a plain one) and the
    cluster-wide agent, and the memory of the whole DaemonSet (the plain node's agent on every other node)
    beside the one agent of the same cluster (docs/decisions/no-daemonset-agent.md)."""
    say(f"machine: {platform.node()} {platform.machine()}, {platform.platform()}")
    rows = [
        "| nodes | agent | targets up | active series | RSS MiB | heap in use MiB | CPU cores @ 30 s |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    totals = []
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        pages = local_pages(Path(tmp) / "local")
        for nodes in args.nodes:
            interval = args.interval or DEFAULT_INTERVAL
            run = measure_cluster(
                Path(tmp) / f"n{nodes}-daemonset",
                nodes=nodes,
                shards=1,
                interval=interval,
                args=args,
                pages=pages,
                daemonset=True,
            )
            say(json.dumps(dataclasses.asdict(run)))
            per_node = run.agents[:-1]
            for a in run.agents:
                rows.append(
                    f"| {nodes} | {a.role} | {a.targets_up} | {a.active_series:,} | {a.rss_bytes / MiB:,.0f} "
                    f"| {a.heap_bytes / MiB:,.0f} | {a.cpu_cores * interval / CLUSTER_INTERVAL:.3f} |"
                )
            plain = per_node[-1]
            whole = sum(a.rss_bytes for a in run.agents) + (nodes - len(per_node)) * plain.rss_bytes
            series = sum(a.active_series for a in run.agents) + (nodes - len(per_node)) * plain.active_series
            totals.append(
                f"N={nodes}: DaemonSet mode {whole / MiB:,.0f} MiB RSS in {nodes + 1} agents for ~{series:,}"
                " series (the plain node's agent on every other node)"
            )
    say("\n".join(rows))
    say("\n".join(totals))


if __name__ == "__main__":
    main()
