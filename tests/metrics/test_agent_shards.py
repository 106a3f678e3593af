"""Sharding by the real Prometheus: the generated configs of 3 shards, each in its own agent at the
cluster's release discovering the same simulated cluster (edge_cases.py, real
Kubernetes discovery), select between them every target the unsharded config selects, each exactly once.
The unsharded agent is the oracle: same cluster, same Prometheus, no hashmod."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from harness.manifests import Manifests
from harness.stack import Prometheus, generated_config, wait_until
from tests.metrics.edge_cases import cluster_agent, edge_case_cluster

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

SHARDS = 3
INTERVAL = 5

Target = tuple[str, str, tuple[tuple[str, str], ...]]  # scrape pool, URL, labels


def active(agent: Prometheus) -> list[Target]:
    return [
        (t["scrapePool"], t["scrapeUrl"], tuple(sorted(t["labels"].items())))
        for t in agent.targets()["activeTargets"]
    ]


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[dict[str, Prometheus]]:
    """`all`: the unsharded config; `0`, `1`, `2`: the shards' configs. Nothing answers the scrapes."""
    workdir = tmp_path_factory.mktemp("agent-shards")
    configs = {"all": generated_config(cluster_name="shards", scrape_interval_seconds=INTERVAL)}
    for shard in range(SHARDS):
        configs[str(shard)] = generated_config(
            cluster_name="shards", scrape_interval_seconds=INTERVAL, shard=shard, shards=SHARDS
        )
    started: dict[str, Prometheus] = {}
    with edge_case_cluster(workdir, manifests) as (cluster, receiver, token, _):
        try:
            for name, config in configs.items():
                started[name] = cluster_agent(
                    workdir, config, name=f"agent-{name}", cluster=cluster, receiver=receiver, token=token
                )
                started[name].start_ready()
            yield started
        finally:
            for agent in started.values():
                agent.stop()


def test_the_shards_scrape_every_target_exactly_once(agents):
    def loaded() -> bool:  # every agent has read its target files (the oracle's count is stable)
        return (
            all(a.targets()["activeTargets"] or a.targets()["droppedTargets"] for a in agents.values())
            and sum(len(active(agents[str(n)])) for n in range(SHARDS)) >= len(active(agents["all"])) > 0
        )

    assert wait_until(loaded, attempts=300)
    everything = Counter(active(agents["all"]))
    assert max(everything.values()) == 1
    union = Counter(t for n in range(SHARDS) for t in active(agents[str(n)]))
    assert union == everything, {"missing": everything - union, "twice or unexpected": union - everything}
    # The split is real: the targets are spread over more than one shard.
    assert sum(1 for n in range(SHARDS) if active(agents[str(n)])) >= 2
    # Every job's targets: no job is left to one shard by construction (the rules are in every job).
    assert {pool for pool, _, _ in union} == {pool for pool, _, _ in everything}
