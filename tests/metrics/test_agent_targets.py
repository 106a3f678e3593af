"""Target selection by the real Prometheus agent at the cluster's release, with its real Kubernetes
discovery: the generated config against a simulated cluster holding the charts' pods and edge cases derived
from them (edge_cases.py). The agent's own `/api/v1/targets` must list exactly the targets the `relabel`
re-implementation selects from what the agent discovered, with the same labels and URLs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.manifests import Manifests
from harness.stack import Prometheus, wait_until
from observability import names
from tests.metrics.edge_cases import ANNOTATED_SERVICE, JOBS, NODE_C, active, discovered, edge_case_agent
from tests.metrics.relabel import ScrapeTarget, relabel, targets_of

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[Prometheus]:
    with edge_case_agent(tmp_path_factory.mktemp("agent-targets"), manifests) as cases:
        yield cases.agent


def expected(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    return {job: set(targets_of(JOBS[job], labels, "5s")) for job, labels in discovered(agent).items()}


# The edge cases are in there: counts per job as the unit tests reason about them.
COUNTS = {
    "apiserver": 1,  # the address the API server publishes
    "kubelet": 3,
    "cadvisor": 3,
    "node-exporter": 3,  # one per node, the annotated one included
    "kube-state-metrics": 2,  # http-metrics of both pods, never telemetry
    "prometheus-agent": 1,  # its pod (one replica in this tier: conftest.py), on its API port
    # Postgres exporter (postgres-0 and postgres-svc-2), the legacy app, no-ports (1), no-ports with a sidecar
    # (1, de-duplicated), init, https, a sidecar without ports next to the declared one (2, one address),
    # IPv6 without and with ports
    "pods": 11,
    # The opted-out Postgres pods behind the annotated Service, the not-ready one too, not the terminating one
    "service-endpoints": 2,
    "orders-api": 2,  # its pod and the annotated one, not the finished one
}


def settled(agent: Prometheus) -> bool:
    got = active(agent)
    return {job: len(t) for job, t in got.items()} == COUNTS and got == expected(agent)


def test_the_agent_selects_exactly_the_predicted_targets(agent):
    assert wait_until(lambda: settled(agent), attempts=300), (
        {job: len(targets) for job, targets in active(agent).items()},
        {
            job: {"missing": want - active(agent)[job], "unexpected": active(agent)[job] - want}
            for job, want in expected(agent).items()
            if active(agent)[job] != want
        },
    )


def test_dropped_targets_are_the_rest(agent):
    assert wait_until(lambda: settled(agent), attempts=300)
    dropped: dict[str, list[dict[str, str]]] = {job: [] for job in JOBS}
    for t in agent.targets()["droppedTargets"]:
        dropped[t["scrapePool"]].append(t["discoveredLabels"])
    for job, targets in discovered(agent).items():
        defaults = {"job": job, "__scheme__": JOBS[job].get("scheme", "http")}
        rejected = [t for t in targets if relabel(defaults | t, JOBS[job]["relabel_configs"]) is None]
        assert len(dropped[job]) == len(rejected), job
    dropped_pods = {t.get("__meta_kubernetes_pod_name") for t in dropped["pods"]}
    never = {"legacy-app-opted-out", "legacy-app-undeclared", "legacy-app-finished", "orders-api-finished"}
    assert never - {"orders-api-finished"} | {"orders-api-annotated", "postgres-standby"} <= dropped_pods
    assert "orders-api-finished" in {t.get("__meta_kubernetes_pod_name") for t in dropped["orders-api"]}
    active_pods = {dict(t.labels).get("pod") for ts in active(agent).values() for t in ts}
    assert not never & active_pods
    assert "orders-api-annotated" in active_pods  # by its own job only


def test_agent_logs_no_config_or_discovery_errors(agent):
    log = agent.log()
    assert "Completed loading of configuration file" in log
    assert "level=error" not in log.lower(), log[-3000:]


def test_an_annotated_service_is_scraped_per_endpoint_on_the_annotated_port(agent):
    assert wait_until(lambda: settled(agent), attempts=300)
    endpoints = sorted(active(agent)["service-endpoints"])
    assert [t.label_dict["pod"] for t in endpoints] == ["postgres-svc-0", "postgres-svc-1"]
    for target in endpoints:
        ip = target.label_dict["instance"].rsplit(":", 1)[0]
        assert ip.startswith("198.51.100.")
        assert target.url == f"http://{ip}:{names.POSTGRES_EXPORTER_PORT}/metrics"
        assert target.label_dict == {
            "job": "service-endpoints",
            "namespace": names.APP_NAMESPACE,
            "service": ANNOTATED_SERVICE,
            "pod": target.label_dict["pod"],
            "container": "postgres-exporter",
            "node": NODE_C.name,
            "instance": f"{ip}:{names.POSTGRES_EXPORTER_PORT}",
        }
    # The pod that opts in itself is scraped once, by the annotation job.
    opted_in = [
        (job, t)
        for job, ts in active(agent).items()
        for t in ts
        if t.label_dict.get("pod") == "postgres-svc-2"
    ]
    assert [job for job, _ in opted_in] == ["pods"]
