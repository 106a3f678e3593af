"""Sharding by the real Prometheus: the generated configs of 3 shards, each in its own agent on the
same discovered targets (test_agent_targets.py's edge cases, file_sd variant), select between them every
target the unsharded config selects, each exactly once. The unsharded agent is the oracle: same inputs,
same Prometheus, no hashmod."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from harness import sd
from harness.manifests import Manifests
from harness.stack import Prometheus, generated_config, local_variant, wait_until
from observability.render import scrape_config as sc
from tests.metrics.test_agent_targets import discover_locally

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
    sd_dir = workdir / "sd"
    sd_dir.mkdir()
    for job, targets in discover_locally(manifests).items():
        sd.write_file_sd(sd_dir / f"{job}.json", targets)
    receiver = Prometheus.receiver(workdir / "receiver")
    configs = {"all": generated_config(cluster_name="shards", scrape_interval_seconds=INTERVAL)}
    for shard in range(SHARDS):
        configs[str(shard)] = generated_config(
            cluster_name="shards", scrape_interval_seconds=INTERVAL, shard=shard, shards=SHARDS
        )
    started: dict[str, Prometheus] = {}
    try:
        receiver.start_ready()
        for name, config in configs.items():
            local = local_variant(config, sd_dir, receiver.remote_write_url)
            started[name] = Prometheus.agent(workdir / name, sc.render(local), name=f"agent-{name}")
            started[name].start_ready()
        yield started
    finally:
        for agent in started.values():
            agent.stop()
        receiver.stop()


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
