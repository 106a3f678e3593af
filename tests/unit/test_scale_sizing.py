"""The sizing benchmark's arithmetic (harness/scale.py): shards for a memory ceiling, the memory line fitted
to measurements, series per target from a job table estimate, the canned pages and the node addresses."""

from __future__ import annotations

import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.scale import (
    DROPPED_SERIES,
    estimated_page,
    fit,
    per_target,
    scaled_nodes,
    shards_needed,
    split_per_node,
)
from harness.stack import generated_config
from observability import jobs
from observability.jobs import Unit

MiB = 2**20


def test_one_shard_while_the_series_fit_under_the_ceiling() -> None:
    # 100 MiB base + 1,000 bytes x 500,000 series = 100 MiB + ~477 MiB: under 1,024 MiB.
    assert (
        shards_needed(series=500_000, bytes_per_series=1_000, base_bytes=100 * MiB, ceiling_bytes=1024 * MiB)
        == 1
    )


def test_shards_round_up_to_keep_every_agent_under_the_ceiling() -> None:
    # Room per agent: 924 MiB = 968,884,224 bytes; 2,000,000 series x 1,000 bytes = 2.06 agents' room -> 3.
    assert (
        shards_needed(
            series=2_000_000, bytes_per_series=1_000, base_bytes=100 * MiB, ceiling_bytes=1024 * MiB
        )
        == 3
    )
    # Exactly two agents' room: two shards.
    assert shards_needed(series=2_000, bytes_per_series=1_000, base_bytes=0, ceiling_bytes=1_000_000) == 2


def test_a_ceiling_under_the_base_memory_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        shards_needed(series=1, bytes_per_series=1, base_bytes=2 * MiB, ceiling_bytes=MiB)


def test_the_memory_line_goes_through_exact_points() -> None:
    line = fit([(10_000, 60_000_000), (110_000, 160_000_000), (60_000, 110_000_000)])
    assert line.bytes_per_series == pytest.approx(1_000)
    assert line.base_bytes == pytest.approx(50_000_000)


def test_a_line_needs_two_series_counts() -> None:
    with pytest.raises(ValueError, match="two different"):
        fit([(5, 1.0), (5, 2.0)])


def test_series_per_target_multiply_each_unit_by_its_count_per_target() -> None:
    # 6 per container x 12 + 10 per pod x 8 + 70 per node x 1 = 72 + 80 + 70.
    series = {Unit.CONTAINER: 6, Unit.POD: 10, Unit.NODE: 70}
    assert per_target(series, {Unit.CONTAINER: 12, Unit.POD: 8, Unit.NODE: 1}) == 222


def test_an_estimated_page_holds_the_kept_and_the_dropped_series() -> None:
    page = estimated_page(jobs.BY_NAME[jobs.KUBELET], kept=7, unfiltered=10).decode()
    samples = [s for family in text_string_to_metric_families(page) for s in family.samples]
    assert len(samples) == 10
    kept = [s for s in samples if s.name != DROPPED_SERIES]
    assert len(kept) == 7
    assert {s.name for s in kept} <= set(jobs.BY_NAME[jobs.KUBELET].series)
    assert not any(s.name.endswith("_bucket") for s in kept)


def test_nodes_get_distinct_loopback_addresses_and_pod_ranges() -> None:
    nodes = scaled_nodes(500)
    assert len({n.ip for n in nodes}) == 500
    assert len({n.pod_cidr for n in nodes}) == 500
    networks = [ipaddress.IPv4Network(n.pod_cidr) for n in nodes]
    assert all(ipaddress.ip_address(n.ip).is_loopback for n in nodes)
    assert all(
        net.prefixlen == 24 and net.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")) for net in networks
    )
    assert not any(ipaddress.ip_address(n.ip) in net for n in nodes for net in networks)


def test_more_than_500_nodes_are_refused() -> None:
    with pytest.raises(ValueError, match="1-500"):
        scaled_nodes(501)


def test_daemonset_mode_keeps_pod_and_node_jobs_on_each_node_and_the_rest_on_one_agent() -> None:
    config = generated_config(cluster_name="scale", scrape_interval_seconds=30)
    local, central = split_per_node(config, node="kwok-node-007")
    # Pods by the API server's field `spec.nodeName`, nodes by `metadata.name` (Prometheus's `selectors`).
    fields = {
        job["job_name"]: [(d["role"], d["selectors"]) for d in job["kubernetes_sd_configs"]]
        for job in local["scrape_configs"]
    }
    on_node = [{"role": "pod", "field": "spec.nodeName=kwok-node-007"}]
    assert fields == {
        "kubelet": [("node", [{"role": "node", "field": "metadata.name=kwok-node-007"}])],
        "cadvisor": [("node", [{"role": "node", "field": "metadata.name=kwok-node-007"}])],
        "node-exporter": [("pod", on_node)],
        "kube-state-metrics": [("pod", on_node)],
        "prometheus-agent": [("pod", on_node)],
        "pods": [("pod", on_node)],
        "orders-api": [("pod", on_node)],
    }
    # EndpointSlices have no node field: the API server's job and annotated Services stay central.
    assert [job["job_name"] for job in central["scrape_configs"]] == ["apiserver", "service-endpoints"]
    # Nothing else changes: the remote write and global settings are the generated ones on both.
    for part in (local, central):
        assert {k: v for k, v in part.items() if k != "scrape_configs"} == {
            k: v for k, v in config.items() if k != "scrape_configs"
        }
