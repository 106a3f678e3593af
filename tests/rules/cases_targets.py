"""Cases of the per-node target alerts (a node kube-state-metrics reports, without a kubelet, cAdvisor or
node-exporter target), of the agent's shards (a shard whose agents are all gone) and of the agent's
remote-write shards."""

from __future__ import annotations

from observability import conventions as c
from tests.rules.alert_cases import (
    EXTERNAL,
    KSM,
    NODE_NAME,
    OTHER_NODE,
    QUEUE,
    Case,
    Expected,
    Scenario,
    labels,
)


def _node_info(node: str) -> str:
    return (
        f'kube_node_info{{{EXTERNAL}, {KSM}, node="{node}", internal_ip="10.0.9.9", '
        'kubelet_version="v1.35.0-eks-1a2b3c4", os_image="Amazon Linux 2023"}'
    )


def _up(job: str, node: str) -> str:
    port = "9100" if job == "node-exporter" else "10250"
    address = "10.0.1.10" if node == NODE_NAME else "10.0.2.7"
    return f'up{{{EXTERNAL}, job="{job}", instance="{address}:{port}", node="{node}"}}'


def _missing(job: str, description: str) -> tuple[Scenario, ...]:
    """Two nodes; `job`'s target of the second one leaves discovery after its sample at 4m, which stays
    fresh through 9m in Prometheus 2 (its 5m lookback includes its start; Prometheus 3's does not, one
    minute earlier): pending from 10m (9m), firing from 25m (24m)."""
    return (
        Scenario(
            "target-gone",
            {
                _node_info(NODE_NAME): "1x40",
                _node_info(OTHER_NODE): "1x40",
                _up(job, NODE_NAME): "1x40",
                _up(job, OTHER_NODE): "1x4 _x35",
            },
            "25m",
            (
                Expected(
                    c.PAGE if job == "kubelet" else c.TICKET, labels(EXTERNAL, node=OTHER_NODE), description
                ),
            ),
            quiet_at=("23m",),
        ),
    )


def _agent_shards(*, replicas: str = "2x40") -> dict[str, str]:
    """Two agent shards as kube-state-metrics reports them: `prometheus-agent` and
    `prometheus-agent-shard-1`, 2 replicas each unless `replicas` says otherwise for shard 1."""
    ksm = f'{EXTERNAL}, {KSM}, namespace="monitoring"'
    return {
        f'kube_statefulset_replicas{{{ksm}, statefulset="prometheus-agent"}}': "2x40",
        f'kube_statefulset_replicas{{{ksm}, statefulset="prometheus-agent-shard-1"}}': replicas,
    }


AGENT_POD_IPS = {
    "prometheus-agent-0": "10.0.1.31",
    "prometheus-agent-1": "10.0.2.31",
    "prometheus-agent-shard-1-0": "10.0.1.32",
    "prometheus-agent-shard-1-1": "10.0.2.32",
}


def _agent_up(pod: str) -> str:
    return (
        f'up{{{EXTERNAL}, job="prometheus-agent", instance="{AGENT_POD_IPS[pod]}:9090", '
        f'namespace="monitoring", pod="{pod}", container="prometheus"}}'
    )


SHARD_0_UP = {_agent_up("prometheus-agent-0"): "1x40", _agent_up("prometheus-agent-1"): "1x40"}
SHARD_DOWN = (
    "For 10 minutes no agent pod of StatefulSet monitoring/prometheus-agent-shard-1 has been scraped "
    "successfully: that shard's targets are not collected, and their alerts cannot fire."
)
SHARD_1 = labels(EXTERNAL, namespace="monitoring", statefulset="prometheus-agent-shard-1")


def _present(job: str) -> tuple[Scenario, ...]:
    """Targets failing every scrape are still discovered (TargetDown's case); a node that leaves the cluster
    takes its targets with it."""
    return (
        Scenario(
            "down-but-discovered-or-node-gone",
            {
                _node_info(NODE_NAME): "1x40",
                _node_info(OTHER_NODE): "1x4 _x35",
                _up(job, NODE_NAME): "0x40",
                _up(job, OTHER_NODE): "1x4 _x35",
            },
            "25m",
        ),
    )


CASES = (
    Case(
        "KubeletDown",
        firing=_missing(
            "kubelet",
            "For 15 minutes kube-state-metrics has reported node ip-10-0-2-7.ec2.internal but the agent has "
            "had no kubelet target for it: KubePersistentVolumeFillingUp, "
            "KubePersistentVolumeInodesFillingUp and KubeletTooManyPods cannot fire for this node.",
        ),
        quiet=_present("kubelet"),
    ),
    Case(
        "CadvisorDown",
        firing=_missing(
            "cadvisor",
            "For 15 minutes kube-state-metrics has reported node ip-10-0-2-7.ec2.internal but the agent has "
            "had no cadvisor target for it: CPUThrottlingHigh and the container panels cannot fire for this "
            "node.",
        ),
        quiet=_present("cadvisor"),
    ),
    Case(
        "NodeExporterDown",
        firing=_missing(
            "node-exporter",
            "For 15 minutes kube-state-metrics has reported node ip-10-0-2-7.ec2.internal but the agent has "
            "had no node-exporter target for it: the node filesystem, memory, clock and conntrack alerts "
            "cannot fire for this node.",
        ),
        quiet=_present("node-exporter"),
    ),
    Case(
        "PrometheusAgentShardDown",
        firing=(
            # Shard 1 scraped its own agents: their series stop after 4m and stay fresh through 9m in
            # Prometheus 2 (8m in 3): pending from 10m (9m), firing from 20m (19m).
            Scenario(
                "shard-gone-with-its-own-targets",
                {
                    **_agent_shards(),
                    **SHARD_0_UP,
                    _agent_up("prometheus-agent-shard-1-0"): "1x4 _x35",
                    _agent_up("prometheus-agent-shard-1-1"): "1x4 _x35",
                },
                "21m",
                (Expected(c.PAGE, SHARD_1, SHARD_DOWN),),
                quiet_at=("18m",),
            ),
            # Shard 0 scrapes shard 1's agents and fails from 5m: pending from 5m, firing from 15m.
            Scenario(
                "shard-scraped-by-another-failing",
                {
                    **_agent_shards(),
                    **SHARD_0_UP,
                    _agent_up("prometheus-agent-shard-1-0"): "1x4 0x35",
                    _agent_up("prometheus-agent-shard-1-1"): "1x4 0x35",
                },
                "16m",
                (Expected(c.PAGE, SHARD_1, SHARD_DOWN),),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            # One replica of shard 1 left: the shard still collects (the StatefulSet's own alert says the
            # other is missing).
            Scenario(
                "one-replica-left",
                {
                    **_agent_shards(),
                    **SHARD_0_UP,
                    _agent_up("prometheus-agent-shard-1-0"): "1x4 0x35",
                    _agent_up("prometheus-agent-shard-1-1"): "1x40",
                },
                "30m",
            ),
            # Shard 1 scaled to 0 (the shard count lowered): its agents go on purpose.
            Scenario(
                "scaled-to-zero",
                {
                    **_agent_shards(replicas="2x4 0x35"),
                    **SHARD_0_UP,
                    _agent_up("prometheus-agent-shard-1-0"): "1x4 _x35",
                    _agent_up("prometheus-agent-shard-1-1"): "1x4 _x35",
                },
                "30m",
            ),
        ),
    ),
    Case(
        "PrometheusRemoteWriteDesiredShards",
        firing=(
            Scenario(
                "21-of-20",
                {
                    f"prometheus_remote_storage_shards_desired{{{QUEUE}}}": "21x30",
                    f"prometheus_remote_storage_shards_max{{{QUEUE}}}": "20x30",
                },
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(QUEUE),
                        "Agent prometheus-agent-0 has wanted 21 shards for amp for 15 minutes, more than its "
                        "max_shards: it sends slower than it scrapes and falls behind.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "20-of-20",
                {
                    f"prometheus_remote_storage_shards_desired{{{QUEUE}}}": "20x30",
                    f"prometheus_remote_storage_shards_max{{{QUEUE}}}": "20x30",
                },
                "20m",
            ),
        ),
    ),
)
