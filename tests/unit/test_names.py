"""The names other parts find each other by: the agent's StatefulSets per shard (the runbook
PrometheusAgentShardDown and docs/architecture/metrics-pipeline.md name them) and the opt-in annotations
the `pods` job selects (docs/architecture/metrics-pipeline.md). Literals from those pages."""

from __future__ import annotations

from observability import names


def test_the_first_shard_keeps_the_plain_name_and_the_others_are_numbered():
    assert names.agent_statefulset(0) == "prometheus-agent"
    assert names.agent_statefulset(1) == "prometheus-agent-shard-1"
    assert names.agent_statefulset(2) == "prometheus-agent-shard-2"


def test_a_pod_opts_in_with_the_four_prometheus_io_annotations():
    assert names.scrape_annotations(port=9187, path="/metrics") == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9187",
        "prometheus.io/path": "/metrics",
        "prometheus.io/scheme": "http",
    }
