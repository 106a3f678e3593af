"""The agent chart alone, sharded and single: one StatefulSet, ConfigMap and disruption budget per shard,
each pod spec pointing at its shard's config; no budget for a single replica (it would block drains)."""

from __future__ import annotations

from typing import Any

import cdk8s
import kubernetes_validate
import pytest

from config import KUBERNETES_VERSION
from config.monitoring import MonitoringConfig
from k8s.monitoring.prometheus_agent_chart import PrometheusAgentChart, ShardConfig

INSTANCE = "app.kubernetes.io/instance"


def synth(*, shards: int, replicas: int) -> list[dict[str, Any]]:
    chart = PrometheusAgentChart(
        cdk8s.App(),
        "agent",
        shards=[ShardConfig(config_yaml=f"# shard {n}\n", checksum=f"sum-{n}") for n in range(shards)],
        replicas=replicas,
        resources=MonitoringConfig().agent_resources,
        wal_volume_gib=10,
    )
    return list(chart.to_json())


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_three_shards_of_two_replicas():
    objects = synth(shards=3, replicas=2)
    names = ["prometheus-agent", "prometheus-agent-shard-1", "prometheus-agent-shard-2"]
    stateful_sets = by_kind(objects, "StatefulSet")
    assert sorted(stateful_sets) == names
    config_maps = by_kind(objects, "ConfigMap")
    budgets = by_kind(objects, "PodDisruptionBudget")
    assert sorted(budgets) == names
    for shard, name in enumerate(names):
        spec = stateful_sets[name]["spec"]
        assert spec["replicas"] == 2
        assert spec["serviceName"] == "prometheus-agent"  # one headless Service for every agent
        template = spec["template"]
        assert template["metadata"]["labels"][INSTANCE] == name
        assert template["metadata"]["annotations"]["checksum/config"] == f"sum-{shard}"
        (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == "config"]
        assert config_maps[volume["configMap"]["name"]]["data"]["prometheus.yml"] == f"# shard {shard}\n"
        # Budget and spread count the shard's own pods, not every agent's.
        own = {"app.kubernetes.io/name": "prometheus-agent", INSTANCE: name}
        assert budgets[name]["spec"]["selector"] == {"matchLabels": own}
        assert {
            c["labelSelector"]["matchLabels"][INSTANCE] for c in template["spec"]["topologySpreadConstraints"]
        } == {name}
        assert spec["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    # Shard 0 keeps the selector it had before shards existed (immutable); the others select their own pods.
    assert stateful_sets["prometheus-agent"]["spec"]["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}
    }
    assert stateful_sets["prometheus-agent-shard-2"]["spec"]["selector"]["matchLabels"][INSTANCE] == (
        "prometheus-agent-shard-2"
    )
    for manifest in objects:
        kubernetes_validate.validate(manifest, f"{KUBERNETES_VERSION}.0", strict=True)


def test_a_single_replica_gets_no_disruption_budget():
    objects = synth(shards=1, replicas=1)
    assert by_kind(objects, "StatefulSet")["prometheus-agent"]["spec"]["replicas"] == 1
    assert by_kind(objects, "PodDisruptionBudget") == {}


@pytest.mark.parametrize(("shards", "replicas"), [(0, 2), (1, 0)])
def test_refuses_no_shard_or_no_replica(shards, replicas):
    with pytest.raises(ValueError, match="at least one shard and one replica"):
        synth(shards=shards, replicas=replicas)


def test_shard_0_keeps_the_fields_a_statefulset_cannot_change():
    """Kubernetes refuses updates to a StatefulSet's selector, service name and claim templates: shard 0
    must keep what the single agent had, or the next deploy fails and rolls back."""
    for shards in (1, 3):
        spec = by_kind(synth(shards=shards, replicas=2), "StatefulSet")["prometheus-agent"]["spec"]
        assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}}
        assert spec["serviceName"] == "prometheus-agent"
        (claim,) = spec["volumeClaimTemplates"]
        assert claim["metadata"] == {
            "name": "wal",
            "labels": {
                "app.kubernetes.io/name": "prometheus-agent",
                "app.kubernetes.io/part-of": "eks-observability-platform",
            },
        }
