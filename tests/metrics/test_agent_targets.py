"""Target selection by the real Prometheus agent: the generated config (file_sd variant) on what
Kubernetes discovery gives for our pods and for edge cases derived from them. The agent's own
`/api/v1/targets` must list exactly the targets the `relabel` re-implementation predicts (the one the
fast unit tests in test_relabel_targets.py rely on), with the same labels and URLs.

Nothing needs to answer the scrapes here: every address is a closed port on 127.0.0.0/8.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import manifests as mf
from harness import sd
from harness.manifests import Manifests
from harness.postgres import free_port
from harness.stack import Prometheus, generated_config, local_variant, wait_until
from observability import names
from observability.render import scrape_config as sc
from tests.metrics.relabel import ScrapeTarget, relabel, targets_of
from webapp.orders_api import slo_contract

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

UNDECLARED_PORT = 9999


def edge_cases(m: Manifests) -> list[dict[str, Any]]:
    pods = mf.cluster_pods(m)
    web, pg = pods[names.WEBAPP], pods[names.POSTGRES]
    app = mf.with_annotations(
        web, names.scrape_annotations(port=slo_contract.APP_PORT, path=slo_contract.METRICS_PATH)
    )
    app["metadata"]["labels"][names.NAME_LABEL] = "legacy-app"
    scrape_me = {mf.SCRAPE: "true", "prometheus.io/port": str(names.NODE_EXPORTER_PORT)}
    node_exporter_b = mf.pod(m.get("DaemonSet", names.NODE_EXPORTER), node=mf.NODE_B, ip="10.40.2.20")
    ksm_telemetry = {mf.SCRAPE: "true", "prometheus.io/port": str(names.KUBE_STATE_METRICS_TELEMETRY_PORT)}
    not_ready_pg = mf.opted_out(pg, "postgres-1")
    not_ready_pg["status"] |= {"podIP": "10.40.1.34", "conditions": [{"type": "Ready", "status": "False"}]}
    terminating_pg = mf.terminating(mf.opted_out(pg, "postgres-2"))
    terminating_pg["status"] |= {"podIP": "10.40.1.35"}
    api_service, api_slice = mf.kubernetes_service(["10.40.0.11", "10.40.0.12"])
    return [
        *pods.values(),
        mf.with_annotations(node_exporter_b, scrape_me),  # annotated anyway: still only its own job
        mf.with_annotations(
            mf.renamed(pods[names.KUBE_STATE_METRICS], "ksm-annotated", ip="10.40.2.33"), ksm_telemetry
        ),
        # An app without a service file opts in by annotations (the `pods` job), with its edge cases.
        mf.renamed(app, "legacy-app"),
        mf.opted_out(app, "legacy-app-opted-out"),
        mf.renamed(mf.without_ports(app), "legacy-app-no-ports"),
        mf.renamed(mf.with_sidecar(mf.without_ports(app)), "legacy-app-no-ports-2"),
        mf.renamed(mf.with_init_container(app), "legacy-app-init"),
        mf.with_annotations(
            mf.renamed(app, "legacy-app-undeclared"), {"prometheus.io/port": str(UNDECLARED_PORT)}
        ),
        mf.with_phase(mf.renamed(app, "legacy-app-finished"), "Succeeded"),
        # The orders API by its own job: annotated anyway (still only its job), finished (not scraped).
        mf.with_annotations(
            mf.renamed(web, "orders-api-annotated"),
            names.scrape_annotations(port=slo_contract.APP_PORT, path=slo_contract.METRICS_PATH),
        ),
        mf.with_phase(mf.renamed(web, "orders-api-finished"), "Succeeded"),
        not_ready_pg,
        terminating_pg,  # in the slice (terminating), not scraped
        mf.annotated_service(m.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT),
        m.get("Service", names.WEBAPP),
        mf.node(mf.NODE_A, "10.40.1.10"),
        mf.node(mf.NODE_B, "10.40.2.20"),
        api_service,
        api_slice,
    ]


CONFIG = generated_config(cluster_name="edge", scrape_interval_seconds=5)
JOBS = {j["job_name"]: j for j in CONFIG["scrape_configs"]}


def discover_locally(m: Manifests) -> dict[str, list[sd.Target]]:
    """Per job, what discovery finds among the edge cases, each port at a closed local port and each
    distinct IP at its own loopback address."""
    objects = edge_cases(m)
    ports = [
        slo_contract.APP_PORT,
        names.POSTGRES_PORT,
        names.POSTGRES_EXPORTER_PORT,
        names.NODE_EXPORTER_PORT,
        names.KUBE_STATE_METRICS_PORT,
        names.KUBE_STATE_METRICS_TELEMETRY_PORT,
        names.PROMETHEUS_PORT,
        UNDECLARED_PORT,
        443,
        10250,
    ]
    port_map = {p: free_port() for p in ports}
    # Distinct cluster IPs stay distinct: each gets its own loopback address.
    raw = sd_all(objects)
    ips = sorted({ip for targets in raw.values() for ip in sd.target_ips(targets)})
    hosts = {ip: f"127.0.0.{i + 2}" for i, ip in enumerate(ips)}
    return {job: sd.localize(targets, port_map, hosts=hosts) for job, targets in raw.items()}


@pytest.fixture(scope="module")
def discovered(manifests: Manifests) -> dict[str, list[sd.Target]]:
    return discover_locally(manifests)


def sd_all(objects: list[dict[str, Any]]) -> dict[str, list[sd.Target]]:
    return {name: sd.discover(job, objects) for name, job in JOBS.items()}


@pytest.fixture(scope="module")
def agent(
    tmp_path_factory: pytest.TempPathFactory, discovered: dict[str, list[sd.Target]]
) -> Iterator[Prometheus]:
    workdir = tmp_path_factory.mktemp("agent-targets")
    receiver = Prometheus.receiver(workdir / "receiver")
    agent = None
    try:
        receiver.start_ready()
        sd_dir = workdir / "sd"
        sd_dir.mkdir()
        for job, targets in discovered.items():
            sd.write_file_sd(sd_dir / f"{job}.json", targets)
        config = local_variant(CONFIG, sd_dir, receiver.remote_write_url)
        agent = Prometheus.agent(workdir / "agent", sc.render(config))
        agent.start_ready()
        yield agent
    finally:
        if agent is not None:
            agent.stop()  # before the receiver: nothing left to flush into a dead endpoint
        receiver.stop()


def expected(discovered: dict[str, list[sd.Target]]) -> dict[str, set[ScrapeTarget]]:
    return {job: set(targets_of(JOBS[job], targets, "5s")) for job, targets in discovered.items()}


def active(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    result: dict[str, set[ScrapeTarget]] = {job: set() for job in JOBS}
    for t in agent.targets()["activeTargets"]:
        result[t["scrapePool"]].add(ScrapeTarget(t["scrapeUrl"], tuple(sorted(t["labels"].items()))))
    return result


def test_the_agent_selects_exactly_the_predicted_targets(agent, discovered):
    want = expected(discovered)
    assert wait_until(lambda: active(agent) == want, attempts=300), {
        job: {"missing": want[job] - got, "unexpected": got - want[job]}
        for job, got in active(agent).items()
        if got != want[job]
    }
    # The edge cases are in there: counts per job as the unit tests reason about them.
    counts = {job: len(targets) for job, targets in want.items()}
    assert counts == {
        "apiserver": 2,
        "kubelet": 2,
        "cadvisor": 2,
        "node-exporter": 2,  # one per node, the annotated one included
        "kube-state-metrics": 2,  # http-metrics of both pods, never telemetry
        "prometheus-agent": 1,  # itself, on its API port
        # Postgres exporter, the legacy app, no-ports (1), no-ports with a sidecar (1, de-duplicated), init
        "pods": 5,
        "service-endpoints": 1,  # the opted-out, not-ready Postgres pod behind the annotated Service
        "orders-api": 2,  # its pod and the annotated one, not the finished one
    }


def test_dropped_targets_are_the_rest(agent, discovered):
    want = expected(discovered)
    assert wait_until(lambda: active(agent) == want, attempts=300)
    dropped: dict[str, list[dict[str, str]]] = {job: [] for job in JOBS}
    for t in agent.targets()["droppedTargets"]:
        # The job from the target file's name: Prometheus 2.42 shows dropped targets' labels as the
        # relabeling left them (here without `job`), not as discovered.
        labels = t["discoveredLabels"]
        dropped[Path(labels["__meta_filepath"]).stem].append(labels)
    for job, targets in discovered.items():
        defaults = {"job": job, "__scheme__": JOBS[job].get("scheme", "http")}
        rejected = [t for t in targets if relabel(defaults | t, JOBS[job]["relabel_configs"]) is None]
        assert len(dropped[job]) == len(rejected), job
    dropped_pods = {t.get("__meta_kubernetes_pod_name") for t in dropped["pods"]}
    never = {"legacy-app-opted-out", "legacy-app-undeclared", "legacy-app-finished", "orders-api-finished"}
    assert never - {"orders-api-finished"} | {"orders-api-annotated"} <= dropped_pods
    assert "orders-api-finished" in {t.get("__meta_kubernetes_pod_name") for t in dropped["orders-api"]}
    active_pods = {dict(t.labels).get("pod") for ts in active(agent).values() for t in ts}
    assert not never & active_pods
    assert "orders-api-annotated" in active_pods  # by its own job only


def test_agent_logs_no_config_or_discovery_errors(agent):
    log = agent.log()
    assert "Completed loading of configuration file" in log
    assert "level=error" not in log, log[-3000:]
