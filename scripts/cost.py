"""Active series per target kind, with and without the keep-lists, and what they cost in AMP.

Runs the local pipeline once on a simulated cluster (harness/cluster_stack.py: the charts applied, a real
node-exporter per node, postgres-exporter on a real Postgres and the real orders API listening on their
pods' IPs, two Prometheus agents at the cluster's release running the generated config with their real
Kubernetes discovery, one of them without its keep rules, both remote-writing to a local Prometheus), sends
the web app a representative mix of requests, counts the series each target kind produces per target at the
receiver, and scales them to a reference cluster. kube-state-metrics and the API server are measured on a
simulated cluster of real parts (harness/cluster_series.py: the real kube-state-metrics and kube-apiserver,
the agents' real Kubernetes discovery), kube-state-metrics's series per object kind scaled to the reference
cluster's objects. The kubelet and cAdvisor cannot run here (kwok's Metric resources serve only the
kubelet's /metrics/resource names, as kwok's own configuration defines them, not the kubelet's or
cAdvisor's): they use the per-target estimates of their rows in the job table (observability/jobs.py),
marked as such. Loopback only: no other network access.

    make cost            # or: .venv/bin/python scripts/cost.py

After a deploy, replace estimates with measurements from AMP itself: the agent ships
`scrape_samples_scraped` and `scrape_samples_post_metric_relabeling` for every target, e.g.
`sum by (job) (scrape_samples_post_metric_relabeling)`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "webapp"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
# jsii (cdk8s) runs `node` from PATH: the venv's Node 24.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import httpx  # noqa: E402

from config.monitoring import MonitoringConfig  # noqa: E402
from harness import cluster_series, manifests  # noqa: E402
from harness.cluster_series import ClusterSeries  # noqa: E402
from harness.cluster_stack import ClusterStack, pod_of, run_pods  # noqa: E402
from harness.lifecycle import unwind_on_sigterm  # noqa: E402
from harness.stack import (  # noqa: E402
    CannedExporter,
    Prometheus,
    generated_config,
    wait_until,
    with_cluster_label,
    without_keep_lists,
)
from observability import jobs, names  # noqa: E402
from observability.catalog import SYNTHETIC_SERIES  # noqa: E402
from observability.jobs import ScrapeJob, Unit  # noqa: E402
from observability.model.load import Services, load_default  # noqa: E402

# --- the reference cluster ---------------------------------------------------------------------------------
NODES = 3
PODS = 40  # every pod in the cluster, system pods included
CONTAINERS_PER_POD = 1.5
WEBAPP_REPLICAS = 3  # of the 40
# How many of each unit the job table's estimates and target counts refer to.
REFERENCE: dict[Unit, float] = {
    Unit.TARGET: 1,
    Unit.CLUSTER: 1,
    Unit.NODE: NODES,
    Unit.POD: PODS,
    Unit.CONTAINER: PODS * CONTAINERS_PER_POD,
    Unit.PVC: 2,  # Postgres and the agent's WAL
    Unit.APISERVER_ENDPOINT: 2,  # EKS publishes two API server addresses in default/kubernetes
}
SYNTHETIC_PER_TARGET = len(SYNTHETIC_SERIES)  # recorded by the scraper for every target, never dropped
# Objects of each kind kube-state-metrics reports on (its --resources), in the reference cluster: the
# platform's own (the orders API and Postgres, the agent, kube-state-metrics, node-exporter, their
# namespaces and storage classes) and EKS's add-ons (CoreDNS, metrics-server, the EBS CSI controller;
# aws-node, kube-proxy, the EBS CSI node and Pod Identity agents), with room for a few more applications.
REFERENCE_OBJECTS = {
    "nodes": NODES,
    "pods": PODS,
    "deployments": 10,
    "replicasets": 20,  # each Deployment's current ReplicaSet and one from its previous rollout
    "statefulsets": 2,
    "daemonsets": 5,
    "horizontalpodautoscalers": 1,
    "persistentvolumeclaims": REFERENCE[Unit.PVC],
    "persistentvolumes": REFERENCE[Unit.PVC],
    "namespaces": 8,
    "services": 8,
    "poddisruptionbudgets": 4,
    "storageclasses": 3,
    "resourcequotas": 0,
    "jobs": 0,
    "cronjobs": 0,
}

# --- AMP ingestion pricing, us-east-1: check current pricing (https://aws.amazon.com/prometheus/pricing/)
# (samples in the tier, USD per 10 million samples); storage ($0.03/GB-month) and query samples are extra.
TIERS = ((2_000_000_000, 0.90), (250_000_000_000, 0.35), (math.inf, 0.16))
SECONDS_PER_MONTH = 30 * 86_400

# The series count does not depend on the interval; the local run scrapes every 5 s to be quick, the
# cost is computed at the configured interval.
MEASURE_INTERVAL = 5


@dataclass(frozen=True)
class Kind:
    name: str
    job: str
    targets: int
    kept: float  # series per target, keep-lists applied
    unfiltered: float  # series per target, everything the target exposes
    measured: bool
    note: str


def targets(job: ScrapeJob) -> int:
    return round(REFERENCE[job.one_target_per])


def per_target(job: ScrapeJob, series: Mapping[Unit, float]) -> float:
    """Series per target of `job` in the reference cluster: each unit's share of one target."""
    n = REFERENCE[job.one_target_per]
    return sum(
        per_unit * (1 if unit is Unit.TARGET else REFERENCE[unit] / n) for unit, per_unit in series.items()
    )


ESTIMATED = {
    jobs.KUBELET: ("kubelet", "per node"),
    jobs.CADVISOR: ("cAdvisor", "per node"),
}


def estimates() -> list[Kind]:
    """The jobs that cannot run here, from their estimates in the job table (synthetic series added)."""
    kinds = []
    for name, (kind, note) in ESTIMATED.items():
        job = jobs.BY_NAME[name]
        if job.estimate is None:
            raise ValueError(f"the job table has no estimate for {name}")
        kept = per_target(job, job.estimate.kept) + SYNTHETIC_PER_TARGET
        unfiltered = per_target(job, job.estimate.unfiltered) + SYNTHETIC_PER_TARGET
        kinds.append(Kind(kind, name, targets(job), kept, unfiltered, False, note))
    return kinds


def measured_in_cluster(series: ClusterSeries) -> list[Kind]:
    """kube-state-metrics, its series per object of each kind scaled to the reference cluster's objects
    (synthetic series added), and the API server per endpoint, from the simulated cluster."""
    missing = [r for r, n in REFERENCE_OBJECTS.items() if n and not series.objects.get(r)]
    unknown = set(series.objects) - set(REFERENCE_OBJECTS)
    if missing or unknown:
        raise ValueError(f"no object to measure per object: {missing}; no reference count: {sorted(unknown)}")

    def scaled(per_resource: Mapping[str, int]) -> float:
        return SYNTHETIC_PER_TARGET + sum(
            n / series.objects[r] * REFERENCE_OBJECTS[r]
            for r, n in per_resource.items()
            if REFERENCE_OBJECTS[r]
        )

    ksm, apiserver = jobs.BY_NAME[jobs.KUBE_STATE_METRICS], jobs.BY_NAME[jobs.APISERVER]
    return [
        Kind("kube-state-metrics", ksm.name, targets(ksm), scaled(series.ksm_kept), scaled(series.ksm_all),
             True, "cluster-wide"),
        Kind("API server", apiserver.name, targets(apiserver), series.apiserver_kept, series.apiserver_all,
             True, "per endpoint"),
    ]  # fmt: skip


def per_object(series: ClusterSeries) -> str:
    """kube-state-metrics's series per object of each kind, as measured, with the reference counts."""
    lines = [
        "",
        "kube-state-metrics per object (measured on a simulated cluster of real parts: kube-apiserver, kwok, "
        "the real kube-state-metrics; the agents' real discovery):",
        "",
        "| resource | objects measured | series kept | series all | per object, kept | per object, all "
        "| reference objects |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for resource, n in sorted(series.objects.items()):
        kept, everything = series.ksm_kept.get(resource, 0), series.ksm_all.get(resource, 0)
        lines.append(
            f"| {resource} | {n} | {kept} | {everything} | {kept / n if n else 0:,.1f} "
            f"| {everything / n if n else 0:,.1f} | {REFERENCE_OBJECTS[resource]} |"
        )
    lines.append(
        f"\nAPI server (one, measured): {series.apiserver_kept:,} series kept, {series.apiserver_all:,} in "
        "all, from the simulated cluster's own traffic (kwok, kube-state-metrics, the agents, the applies); "
        "a real cluster's controllers and kubelets add request label combinations. Estimated: kubelet, "
        "cAdvisor."
    )
    return "\n".join(lines)


def cost(samples: float) -> float:
    total, remaining = 0.0, samples
    for size, price in TIERS:
        in_tier = min(remaining, size)
        total += in_tier / 10_000_000 * price
        remaining -= in_tier
        if remaining <= 0:
            break
    return total


def exercise(app_url: str) -> None:
    """The request mix of normal operation: create, read, list, page, not found, invalid input."""
    with httpx.Client(base_url=app_url, timeout=10) as client:
        for i in range(20):
            created = client.post("/orders", json={"item": f"item-{i}", "quantity": 1 + i % 3}).json()
            client.get(f"/orders/{created['id']}")
        client.get("/orders", params={"limit": "5"})
        client.get("/orders/999999999")  # 404
        client.post("/orders", json={"quantity": -1})  # 422
        client.get("/no-such-route")  # unmatched


Counts = dict[tuple[str, str], list[int]]  # (job, container) -> series of each of its targets, sorted


def counts(receiver: Prometheus, cluster: str) -> Counts:
    rows = receiver.query(f'count by (job, container, instance) ({{cluster="{cluster}"}})')
    result: Counts = {}
    for r in rows:
        result.setdefault((r["metric"]["job"], r["metric"].get("container", "")), []).append(
            int(r["value"][1])
        )
    return {key: sorted(values) for key, values in result.items()}


def settled(
    receiver: Prometheus, clusters: tuple[str, ...], expected_keys: set[tuple[str, str]]
) -> dict[str, Counts]:
    """Per cluster label, the series counts of the expected target kinds, once each is in and every
    count stayed the same over two scrape rounds. (The cluster's other targets, which have no process
    here, kube-state-metrics' pod, the kubelets, the API server's published address, are down: left out.)"""
    previous: dict[str, Counts] = {}

    def stable() -> bool:
        now = {cluster: counts(receiver, cluster) for cluster in clusters}
        done = now == previous and all(expected_keys <= set(v) for v in now.values())
        previous.clear()
        previous.update(now)
        return done

    if not wait_until(stable, attempts=30, interval=2 * MEASURE_INTERVAL):
        raise RuntimeError(f"series counts did not settle: {previous}")
    return {cluster: {key: previous[cluster][key] for key in expected_keys} for cluster in clusters}


@dataclass(frozen=True)
class Measurement:
    kinds: list[Kind]
    rss_local: dict[str, int]  # KiB, agents with the local targets only
    rss_scaled: dict[str, int]  # KiB, agents at about the reference cluster's series count
    scaled_series: dict[str, int]
    cluster: ClusterSeries


def measure(workdir: Path) -> Measurement:
    in_cluster = cluster_series.measure(workdir / "cluster")
    config = generated_config(
        cluster_name="cost-keep", environment="cost", scrape_interval_seconds=MEASURE_INTERVAL
    )
    unfiltered = without_keep_lists(with_cluster_label(config, "cost-all"))
    charts = manifests.synthesize(agent_replicas=1)  # one agent pod: the first agent listens there
    with ClusterStack(workdir / "pipeline", charts=charts) as stack:
        # Both agents' `prometheus-agent` job scrapes the first, on the agent pod.
        agents = {"keep": stack.start_agent("keep", config)}
        agents["all"] = stack.start_agent("all", unfiltered)
        exercise(stack.app_url)
        node_exporter = (jobs.NODE_EXPORTER, names.NODE_EXPORTER)
        webapp, postgres = (names.WEBAPP, names.WEBAPP), (jobs.PODS, "postgres-exporter")  # (job, container)
        agent_key = (jobs.PROMETHEUS_AGENT, names.PROMETHEUS_CONTAINER)
        local = settled(
            stack.receiver, ("cost-keep", "cost-all"), {node_exporter, webapp, postgres, agent_key}
        )
        rss_local = {name: agent.rss_kib() for name, agent in agents.items()}
        keep, everything = local["cost-keep"], local["cost-all"]

        def kind(name: str, key: tuple[str, str], n: int, note: str) -> Kind:
            # Per target: the mean over this run's targets of the kind (one node-exporter per node).
            return Kind(
                name, key[0], n, statistics.fmean(keep[key]), statistics.fmean(everything[key]), True, note
            )

        kinds = [
            kind("node-exporter", node_exporter, targets(jobs.BY_NAME[jobs.NODE_EXPORTER]), "per node"),
            kind("orders API (service)", webapp, WEBAPP_REPLICAS, "per replica"),
            kind("postgres-exporter", postgres, 1, "Postgres pod"),
            kind("Prometheus agent", agent_key, targets(jobs.BY_NAME[jobs.PROMETHEUS_AGENT]), "itself"),
            *measured_in_cluster(in_cluster),
            *estimates(),
        ]
        for agent in agents.values():
            agent.stop()
        rss_scaled, scaled_series = scaled(
            stack,
            config,
            reference=sum(k.kept * k.targets for k in kinds),
            per_pod=statistics.fmean(keep[node_exporter]),
        )
    return Measurement(kinds, rss_local, rss_scaled, scaled_series, in_cluster)


def scaled(
    stack: ClusterStack, config: dict[str, Any], *, reference: float, per_pod: float
) -> tuple[dict[str, int], dict[str, int]]:
    """Agent memory at about `reference` active series: as many node-exporter pods (`per_pod` series kept
    each) as it takes in the
    cluster, found by the agents' node-exporter job alone, every node's port served by one canned copy
    of the real node-exporter's page (the real ones stopped). Returns (VmRSS KiB, active series) of the
    agent with its keep-lists and of the one without."""
    node_ips = sorted({pod["status"]["podIP"] for pod in stack.pods[names.NODE_EXPORTER]})  # host network
    page = httpx.get(f"http://{node_ips[0]}:{names.NODE_EXPORTER_PORT}/metrics", timeout=10).content
    for name, process in stack.processes.items():
        if name.startswith(names.NODE_EXPORTER):
            process.stop()  # their ports go to the canned copies
    (template,) = [w for w in stack.charts.workloads() if w["metadata"]["name"] == names.NODE_EXPORTER]
    more = max(0, round(reference / per_pod) - len(stack.pods[names.NODE_EXPORTER]))
    run_pods(
        stack.cluster,
        [pod_of(stack.cluster, template, name=f"{names.NODE_EXPORTER}-{i:04d}") for i in range(more)],
    )
    node_only = dict(config) | {
        "scrape_configs": [j for j in config["scrape_configs"] if j["job_name"] == jobs.NODE_EXPORTER]
    }
    key = (jobs.NODE_EXPORTER, names.NODE_EXPORTER)
    with contextlib.ExitStack() as canned:
        for ip in node_ips:
            canned.enter_context(CannedExporter(default=page, host=ip, port=names.NODE_EXPORTER_PORT))
        agents = {
            "keep": stack.start_agent("scale-keep", with_cluster_label(node_only, "scale-keep")),
            "all": stack.start_agent(
                "scale-all", without_keep_lists(with_cluster_label(node_only, "scale-all"))
            ),
        }
        big = settled(stack.receiver, ("scale-keep", "scale-all"), {key})
        rss = {name: agent.rss_kib() for name, agent in agents.items()}
        for agent in agents.values():
            agent.stop()
    return rss, {"keep": sum(big["scale-keep"][key]), "all": sum(big["scale-all"][key])}


def table(m: Measurement, interval: int) -> str:
    kinds = m.kinds
    per_month = SECONDS_PER_MONTH / interval
    lines = [
        f"Reference cluster: {NODES} nodes, {PODS} pods ({WEBAPP_REPLICAS} orders API replicas), "
        f"scrape interval {interval} s, 30-day month.",
        "",
        "| kind | job | targets | source | per target, kept | per target, all | series kept | series all |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    total_kept = total_all = 0.0
    for k in kinds:
        kept, everything = k.kept * k.targets, k.unfiltered * k.targets
        total_kept += kept
        total_all += everything
        source = "measured" if k.measured else "**estimate**"
        lines.append(
            f"| {k.name} | {k.job} | {k.targets} ({k.note}) | {source} | {k.kept:,.0f} | {k.unfiltered:,.0f} "
            f"| {kept:,.0f} | {everything:,.0f} |"
        )
    lines.append(f"| **total** | | | | | | **{total_kept:,.0f}** | **{total_all:,.0f}** |")
    samples_kept, samples_all = total_kept * per_month, total_all * per_month
    lines += [
        "",
        "| | with keep-lists | without |",
        "|---|---:|---:|",
        f"| active series | {total_kept:,.0f} | {total_all:,.0f} |",
        f"| samples / month | {samples_kept / 1e9:,.2f} B | {samples_all / 1e9:,.2f} B |",
        f"| AMP ingestion / month | ${cost(samples_kept):,.2f} | ${cost(samples_all):,.2f} |",
        "",
        "AMP ingestion, us-east-1: $0.90 per 10 M samples (first 2 B a month), $0.35 (next 250 B), $0.16 "
        "beyond; storage and queries extra. Check current pricing.",
        "",
        f"Agent memory (VmRSS), keep-lists / none: {m.rss_local['keep'] / 1024:,.0f} / "
        f"{m.rss_local['all'] / 1024:,.0f} MiB with the local targets (the measured rows above); "
        f"{m.rss_scaled['keep'] / 1024:,.0f} / {m.rss_scaled['all'] / 1024:,.0f} MiB at "
        f"{m.scaled_series['keep']:,} / {m.scaled_series['all']:,} active series (the reference total, "
        "node-exporter-shaped series from as many stand-in targets).",
    ]
    return "\n".join(lines)


def per_service(m: Measurement, services: Services, interval: int) -> str:
    """Series and AMP dollars per service, from its job's row: measured here (the orders API), else its
    ceiling (the series budget, its `sample_limit`, per pod: a pod sending more is not scraped at all)."""
    per_month = SECONDS_PER_MONTH / interval
    measured = {k.job: k for k in m.kinds if k.measured}
    lines = [
        "",
        "Per service (its own scrape job; synthetic series included where measured):",
        "",
        "| service | team | job | pods | source | series per pod | series | AMP ingestion / month |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    for service in services.services:
        if service.name in measured:
            k = measured[service.name]
            pods, per_pod, source = k.targets, k.kept, "measured"
        else:
            pods, per_pod, source = 1, float(service.series_budget), "**ceiling** (series budget)"
        series = per_pod * pods
        lines.append(
            f"| {service.name} | {service.team} | {service.name} | {pods} | {source} | {per_pod:,.0f} "
            f"| {series:,.0f} | ${cost(series * per_month):,.2f} |"
        )
    lines.append(
        "\nDollars per service as if it were alone in the workspace (the tiers apply to the total): a lower "
        "bound of its share."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--interval",
        type=int,
        default=MonitoringConfig().scrape_interval_seconds,
        help="scrape interval the cost is computed for (default: the configured one)",
    )
    args = parser.parse_args()
    unwind_on_sigterm()  # a killed run stops its agents and cluster too
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as tmp:
        measurement = measure(Path(tmp))
    print(table(measurement, args.interval))
    print(per_object(measurement.cluster))
    print(per_service(measurement, load_default(), args.interval))
    print(f"\n(measured in {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
