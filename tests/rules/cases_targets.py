"""Cases of the per-node target alerts (a node kube-state-metrics reports, without a kubelet, cAdvisor or
node-exporter target) and of the agent's remote-write shards."""

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
