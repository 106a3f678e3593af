"""The HA pair with real processes on 127.0.0.1: two Prometheus agents, replicas 0 and 1 of one shard,
scrape the same targets and remote-write to a receiver (AMP's stand-in). Restarting either replica, once
with the receiver up and once while it is down, leaves no hole in the union of the two replicas' samples
per target (after dropping `__replica__`, which is what AMP's deduplication keeps: one sample stream per
series, from whichever replica it elected). The restarted replica's own samples are what a single agent
would have delivered (the replicas are independent processes): they show the hole HA closes.

The agents run the generated global settings (external labels, `${AGENT_REPLICA}` expanded from their
environment) and remote write (queue, minus SigV4), with one static job over canned targets in place of
Kubernetes discovery (target selection is test_agent_targets.py's subject). Gaps are measured on sample
timestamps (data), relative to the scrape interval; waits are bounded and generous.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.stack import (
    CannedExporter,
    Prometheus,
    for_local_receiver,
    generated_config,
    wait_until,
)
from observability.render import scrape_config

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

INTERVAL = 2
# Consecutive scrapes of one target by one agent are one interval apart (a fixed ticker); the margin
# absorbs scheduling jitter. A gap above this is at least one missed scrape.
MAX_STEP = 1.5 * INTERVAL
TARGETS = 3
JOB = "canned"
PAGE = b"# TYPE canned_value gauge\ncanned_value 1\n"
# What each measurement found, printed at the end of the module (the restart gap before/after).
MEASURED: dict[str, float] = {}


def ha_config(receiver_url: str, targets: list[str]) -> str:
    config = generated_config(cluster_name="ha-local", scrape_interval_seconds=INTERVAL)
    config["scrape_configs"] = [{"job_name": JOB, "static_configs": [{"targets": targets}]}]
    return scrape_config.render(for_local_receiver(config, receiver_url))


class Pair:
    def __init__(self, workdir: Path, receiver: Prometheus, targets: list[str]) -> None:
        self.receiver = receiver
        self.targets = targets
        config = ha_config(receiver.remote_write_url, targets)
        self.agents = [
            Prometheus.agent(workdir / f"agent-{n}", config, name=f"agent-{n}", replica=n) for n in (0, 1)
        ]

    def times(self, start: float, end: float) -> dict[tuple[str, str], list[float]]:
        """Sample timestamps of `up` per (target, replica) in (start, end]."""
        window = int(end - start) + 1
        result = self.receiver.query(f'up{{job="{JOB}"}}[{window}s]', at=end)
        return {
            (r["metric"]["instance"], r["metric"]["__replica__"]): [float(t) for t, _ in r["values"]]
            for r in result
        }

    def union(self, start: float, end: float) -> dict[str, list[float]]:
        """Per target, the timestamps of both replicas together (`__replica__` dropped)."""
        merged: dict[str, set[float]] = {target: set() for target in self.targets}
        for (target, _), times in self.times(start, end).items():
            merged[target].update(times)
        return {target: sorted(times) for target, times in merged.items()}


def max_gap(times: list[float]) -> float:
    return max((b - a for a, b in itertools.pairwise(times)), default=float("inf"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("agent-ha")
    with (
        CannedExporter(default=PAGE) as a,
        CannedExporter(default=PAGE) as b,
        CannedExporter(default=PAGE) as c,
    ):
        receiver = Prometheus.receiver(workdir / "receiver")
        pair = Pair(workdir, receiver, [a.address, b.address, c.address])
        try:
            receiver.start_ready()
            for agent in pair.agents:
                agent.start_ready()
            started = time.time()
            # Both replicas deliver every target, several scrapes each.
            assert wait_until(
                lambda: (
                    len(pair.times(started, time.time())) == 2 * TARGETS
                    and all(len(t) >= 3 for t in pair.times(started, time.time()).values())
                ),
                attempts=240,
                interval=0.5,
            ), [agent.log()[-2000:] for agent in pair.agents]
            yield pair
        finally:
            for agent in pair.agents:  # before the receiver: nothing left to flush into a dead endpoint
                agent.stop()
            receiver.stop()
    print("\nrestart gaps (s):", MEASURED)


def settled(pair: Pair, start: float, until: float) -> bool:
    """Both replicas have delivered every target's samples up to `until` (the backlog included)."""
    times = pair.times(start, time.time())
    return (
        time.time() > until
        and len(times) == 2 * TARGETS
        and all(t and t[-1] >= until for t in times.values())
    )


def test_each_replica_sends_its_own_replica_label(pair):
    labels = {
        (s["instance"], s["__replica__"], s["cluster"]) for s in pair.receiver.series(f'up{{job="{JOB}"}}')
    }
    assert labels == {(t, r, "ha-local") for t in pair.targets for r in ("0", "1")}


def test_restarting_a_replica_leaves_no_hole_in_the_union(pair):
    agent = pair.agents[1]
    start = time.time() - 3 * INTERVAL
    agent.stop()  # SIGTERM: it flushes to the healthy receiver, then exits
    assert agent.proc is not None
    assert agent.proc.returncode == 0, agent.log()[-2000:]
    agent.start_ready()  # same WAL, same port, same replica
    restarted = time.time()
    end = restarted + 4 * INTERVAL
    assert wait_until(lambda: settled(pair, start, end), attempts=240, interval=0.5), pair.times(
        start, time.time()
    )

    union = pair.union(start, end)
    own = {target: times for (target, replica), times in pair.times(start, end).items() if replica == "1"}
    for target in pair.targets:
        assert union[target][0] <= start + MAX_STEP, target
        assert union[target][-1] >= end - MAX_STEP, target
        assert max_gap(union[target]) <= MAX_STEP, (target, max_gap(union[target]))
        # The restarted replica alone missed at least one scrape: the hole the other replica filled.
        assert max_gap(own[target]) > MAX_STEP, (target, own[target])
    MEASURED["restart: restarted replica alone (before)"] = max(max_gap(t) for t in own.values())
    MEASURED["restart: union of the pair (after)"] = max(max_gap(t) for t in union.values())


def test_restarting_a_replica_during_a_receiver_outage_leaves_no_hole_in_the_union(pair):
    """The restarted replica loses what it had not sent when it stopped (remote write resumes from "now"
    after a restart, prometheus#8809): alone, that is the outage's samples. The other replica keeps them
    in its WAL and delivers them when the receiver is back."""
    receiver, agent = pair.receiver, pair.agents[0]
    start = time.time() - 3 * INTERVAL
    receiver.stop()
    down_at = time.time()
    time.sleep(5 * INTERVAL)  # scrapes pile up in both WALs
    agent.stop()  # cannot flush: gives up after the flush deadline, then exits
    agent.start_ready()
    time.sleep(3 * INTERVAL)
    receiver.start_ready()  # same port, same storage
    end = time.time() + 4 * INTERVAL
    assert wait_until(lambda: settled(pair, start, end), attempts=360, interval=0.5), pair.times(
        start, time.time()
    )

    union = pair.union(start, end)
    own = {target: times for (target, replica), times in pair.times(start, end).items() if replica == "0"}
    for target in pair.targets:
        assert union[target][0] <= start + MAX_STEP, target
        assert union[target][-1] >= end - MAX_STEP, target
        assert max_gap(union[target]) <= MAX_STEP, (target, max_gap(union[target]))
        # Alone, the restarted replica lost the outage's backlog up to its restart.
        assert max_gap(own[target]) > 5 * INTERVAL, (target, own[target])
        hole = next((a, b) for a, b in itertools.pairwise(own[target]) if b - a > MAX_STEP)
        assert down_at - MAX_STEP - 5 * INTERVAL <= hole[0] <= down_at + MAX_STEP, (hole, down_at)
    MEASURED["restart during outage: restarted replica alone (before)"] = max(
        max_gap(t) for t in own.values()
    )
    MEASURED["restart during outage: union of the pair (after)"] = max(max_gap(t) for t in union.values())


def test_samples_per_replica_are_identical_in_labels(pair):
    """Deduplication needs the replicas' series to differ only in `__replica__`."""

    def without_replica(series: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k, v) for k, v in series.items() if k != "__replica__"))

    by_replica: dict[str, set[tuple[tuple[str, str], ...]]] = {"0": set(), "1": set()}
    for series in pair.receiver.series(f'{{job="{JOB}"}}'):
        by_replica[series["__replica__"]].add(without_replica(series))
    assert by_replica["0"] == by_replica["1"]
    assert len(by_replica["0"]) >= TARGETS
