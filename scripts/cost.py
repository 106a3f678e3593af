"""Active series per target kind, with and without the keep-lists, and what they cost in AMP.

Runs the local pipeline once (tests/metrics/stack.py: a real node-exporter, postgres-exporter on a real
Postgres, the real orders API, two Prometheus agents running the generated config, one of them without
its keep rules, both remote-writing to a local Prometheus), sends the web app a representative mix of
requests, counts the series each target kind produces at the receiver, and scales them to a reference
cluster. Kinds that cannot run here (kubelet, cAdvisor, kube-state-metrics, API server) use documented
per-target estimates, marked as such. Loopback only: no other network access.

    make cost            # or: .venv/bin/python scripts/cost.py

After a deploy, replace estimates with measurements from AMP itself: the agent ships
`scrape_samples_scraped` and `scrape_samples_post_metric_relabeling` for every target, e.g.
`sum by (job) (scrape_samples_post_metric_relabeling)`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "webapp"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
# jsii (cdk8s) runs `node` from PATH: the venv's Node 24.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import httpx  # noqa: E402

from config.monitoring import MonitoringConfig  # noqa: E402
from k8s import names  # noqa: E402
from k8s.monitoring.metrics_catalog import BUCKETS  # noqa: E402
from tests.metrics import manifests  # noqa: E402
from tests.metrics.stack import (  # noqa: E402
    HOST,
    CannedExporter,
    Prometheus,
    Stack,
    cluster_objects,
    generated_config,
    wait_until,
    with_cluster_label,
    without_keep_lists,
)

# --- the reference cluster ---------------------------------------------------------------------------------
NODES = 3
PODS = 40  # every pod in the cluster, system pods included
CONTAINERS_PER_POD = 1.5
WEBAPP_REPLICAS = 3  # of the 40
APISERVER_ENDPOINTS = 2  # EKS publishes two API server addresses in default/kubernetes
SYNTHETIC_PER_TARGET = (
    5  # up, scrape_duration_seconds, scrape_samples_scraped, ..._post_metric_relabeling, ..._series_added
)

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


def estimates() -> list[Kind]:
    """Per-target estimates for what cannot run here (synthetic series included). Rationale per line;
    the counts of the kept series follow from metrics_catalog and the reference cluster's shape, the
    unfiltered ones are typical sizes of these endpoints on small EKS clusters."""
    containers_per_node = PODS * CONTAINERS_PER_POD / NODES  # 20
    pods_per_node = PODS / NODES  # ~13
    cgroups_per_node = containers_per_node + pods_per_node + 10  # + QoS and system slices
    # cAdvisor: ~6 kept series per cgroup (CPU, CFS where limited, memory x3, OOM), 4 network series per
    # interface (each pod's eth0, the node's own devices and per-pod veths).
    cadvisor_kept = 6 * cgroups_per_node + 4 * (pods_per_node + 12)
    cadvisor_all = 45 * cgroups_per_node + 16 * (pods_per_node + 12)
    # kubelet: volume stats (6 per PVC, 2 PVCs: Postgres and the agent's WAL), a few gauges, the PLEG
    # histogram (16 buckets + count + sum).
    kubelet_kept = 6 * 2 / NODES + 5 + 18
    # kube-state-metrics: ~16 kept series per pod (info, owner, 5 phases, 3 ready states, restarts,
    # requests, limits), ~30 per node (conditions x statuses, capacity, allocatable), workloads, PVCs,
    # ReplicaSets (revision history).
    ksm_kept = 16 * PODS + 30 * NODES + 5 * 10 + 7 * 2 + 4 * 5 + 4 + 5 * 2 + 40
    # API server: request totals (~800 label combinations) and the SLI latency histogram (~150
    # verb/resource/scope combinations), of whose 22 buckets the catalog keeps a few, plus _count, _sum.
    sli_buckets_kept = len(BUCKETS["apiserver_request_sli_duration_seconds"]) + 1  # and +Inf
    apiserver_kept = 800 + 150 * (sli_buckets_kept + 2) + 2
    s = SYNTHETIC_PER_TARGET
    return [
        Kind("kubelet", "kubelet", NODES, kubelet_kept + s, 2_000 + s, False, "per node"),
        Kind("cAdvisor", "cadvisor", NODES, cadvisor_kept + s, cadvisor_all + s, False, "per node"),
        Kind("kube-state-metrics", "kube-state-metrics", 1, ksm_kept + s, 4_000 + s, False, "cluster-wide"),
        Kind(
            "API server",
            "apiserver",
            APISERVER_ENDPOINTS,
            apiserver_kept + s,
            25_000 + s,
            False,
            "per endpoint",
        ),
    ]


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


def counts(receiver: Prometheus, cluster: str) -> dict[tuple[str, str], int]:
    rows = receiver.query(f'count by (job, container) ({{cluster="{cluster}"}})')
    return {(r["metric"]["job"], r["metric"].get("container", "")): int(r["value"][1]) for r in rows}


def settled(
    receiver: Prometheus, clusters: tuple[str, ...], expected_keys: set[tuple[str, str]]
) -> dict[str, dict[tuple[str, str], int]]:
    """Per cluster label, the series counts once every expected target kind is in and the counts
    stayed the same over two scrape rounds."""
    previous: dict[str, dict[tuple[str, str], int]] = {}

    def stable() -> bool:
        now = {cluster: counts(receiver, cluster) for cluster in clusters}
        done = now == previous and all(set(v) == expected_keys for v in now.values())
        previous.clear()
        previous.update(now)
        return done

    if not wait_until(stable, attempts=30, interval=2 * MEASURE_INTERVAL):
        raise RuntimeError(f"series counts did not settle: {previous}")
    return previous


@dataclass(frozen=True)
class Measurement:
    kinds: list[Kind]
    rss_local: dict[str, int]  # KiB, agents with the local targets only
    rss_scaled: dict[str, int]  # KiB, agents at about the reference cluster's series count
    scaled_series: dict[str, int]


def measure(workdir: Path) -> Measurement:
    config = generated_config(
        cluster_name="cost-keep", environment="cost", scrape_interval_seconds=MEASURE_INTERVAL
    )
    unfiltered = without_keep_lists(with_cluster_label(config, "cost-all"))
    charts = manifests.synthesize()
    objects = cluster_objects(charts, opted_out_pod=False)
    with Stack(workdir) as stack:
        agents = {"keep": stack.start_agent("keep", config, objects)}
        agents["all"] = stack.start_agent("all", unfiltered, objects)
        exercise(stack.app_url)
        targets = {
            ("node-exporter", names.NODE_EXPORTER),
            ("pods", names.WEBAPP),
            ("pods", "postgres-exporter"),
            ("prometheus-agent", names.PROMETHEUS_CONTAINER),
        }
        local = settled(stack.receiver, ("cost-keep", "cost-all"), targets)
        rss_local = {name: agent.rss_kib() for name, agent in agents.items()}
        keep, everything = local["cost-keep"], local["cost-all"]

        def kind(name: str, key: tuple[str, str], n: int, note: str) -> Kind:
            return Kind(name, key[0], n, keep[key], everything[key], True, note)

        kinds = [
            kind("node-exporter", ("node-exporter", names.NODE_EXPORTER), NODES, "per node"),
            kind("orders API", ("pods", names.WEBAPP), WEBAPP_REPLICAS, "per replica"),
            kind("postgres-exporter", ("pods", "postgres-exporter"), 1, "Postgres pod"),
            kind("Prometheus agent", ("prometheus-agent", names.PROMETHEUS_CONTAINER), 1, "itself"),
            *estimates(),
        ]
        # Agent memory at the reference cluster's series count: as many node-exporter pods as it takes,
        # all served by one canned copy of the real node-exporter's page.
        for agent in agents.values():
            agent.stop()
        reference = sum(k.kept * k.targets for k in kinds)
        per_target = keep[("node-exporter", names.NODE_EXPORTER)]
        pod = manifests.cluster_pods(charts)[names.NODE_EXPORTER]
        pods = [
            manifests.renamed(pod, f"{names.NODE_EXPORTER}-{i:04d}")
            for i in range(round(reference / per_target))
        ]
        page = httpx.get(f"http://{HOST}:{stack.ports['node-exporter']}/metrics", timeout=10).content
        with CannedExporter(default=page) as canned:
            ports = {names.NODE_EXPORTER_PORT: canned.port}
            scaled = {
                "keep": stack.start_agent(
                    "scale-keep", with_cluster_label(config, "scale-keep"), pods, ports
                ),
                "all": stack.start_agent(
                    "scale-all", without_keep_lists(with_cluster_label(config, "scale-all")), pods, ports
                ),
            }
            big = settled(
                stack.receiver, ("scale-keep", "scale-all"), {("node-exporter", names.NODE_EXPORTER)}
            )
            rss_scaled = {name: agent.rss_kib() for name, agent in scaled.items()}
            for agent in scaled.values():
                agent.stop()
    return Measurement(
        kinds,
        rss_local,
        rss_scaled,
        {"keep": sum(big["scale-keep"].values()), "all": sum(big["scale-all"].values())},
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--interval",
        type=int,
        default=MonitoringConfig().scrape_interval_seconds,
        help="scrape interval the cost is computed for (default: the configured one)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as tmp:
        measurement = measure(Path(tmp))
    print(table(measurement, args.interval))
    print(f"\n(measured in {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
