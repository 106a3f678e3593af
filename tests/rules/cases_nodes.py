"""Cases of the node alerts added for EKS: inodes, clock, conntrack (node-exporter); readiness, pressure,
flapping and pods against the node's limit (kube-state-metrics and the kubelet)."""

from __future__ import annotations

from observability import conventions as c
from tests.rules.alert_cases import (
    BOTTLEROCKET_ROOT,
    EXTERNAL,
    KSM,
    NODE,
    NODE_NAME,
    OTHER_NODE,
    ROOT,
    Case,
    Expected,
    Scenario,
    labels,
)

MILLION = "1000000+0x120"


def files(selector: str, free: str, total: str, readonly: str) -> dict[str, str]:
    return {
        f"node_filesystem_files_free{{{selector}}}": free,
        f"node_filesystem_files{{{selector}}}": total,
        f"node_filesystem_readonly{{{selector}}}": readonly,
    }


def condition(node: str, name: str, true: str, false: str) -> dict[str, str]:
    """kube-state-metrics writes one series per status of a condition: `true` and `false` (and `unknown`)."""
    return {
        f'kube_node_status_condition{{{KSM}, node="{node}", condition="{name}", status="true"}}': true,
        f'kube_node_status_condition{{{KSM}, node="{node}", condition="{name}", status="false"}}': false,
    }


def cordoned(node: str, value: str) -> dict[str, str]:
    return {f'kube_node_spec_unschedulable{{{KSM}, node="{node}"}}': value}


def pods(node: str, instance: str, running: str, allocatable: str) -> dict[str, str]:
    kubelet = f'{EXTERNAL}, job="kubelet", instance="{instance}", node="{node}"'
    return {
        f"kubelet_running_pods{{{kubelet}}}": running,
        f"kubelet_node_name{{{kubelet}}}": "1x30",
        f'kube_node_status_allocatable{{{EXTERNAL}, {KSM}, node="{node}", {PODS_RESOURCE}}}': allocatable,
    }


PODS_RESOURCE = 'resource="pods", unit="integer"'
CONNTRACK = "node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"
OFFSET = f"node_timex_offset_seconds{{{NODE}}}"
READY = f'{KSM}, node="{NODE_NAME}", condition="Ready", status="true"'
DISK_PRESSURE = f'{KSM}, node="{NODE_NAME}", condition="DiskPressure", status="true"'

CASES = (
    Case(
        "NodeFilesystemFilesFillingUp",
        firing=(
            # 410,000 of 1,000,000 inodes free, 2,000 fewer every 5 minutes: under 40 % from 30m (398,000),
            # out of inodes within a day at that rate; firing 1h later.
            Scenario(
                "filling",
                files(ROOT, "410000-2000x30", MILLION, "0+0x60"),
                "90m",
                (
                    Expected(
                        c.TICKET,
                        labels(ROOT),
                        "Filesystem / (/dev/nvme0n1p1) on node ip-10-0-1-10.ec2.internal has 37.4% of its "
                        "inodes free and is predicted to run out within 24 hours.",
                    ),
                ),
                interval="5m",
                quiet_at=("89m",),
            ),
        ),
        quiet=(
            Scenario(
                "at-40-percent-steady-or-read-only",
                {
                    # The same decline from 436,000: exactly 40.0 % free at 90m.
                    **files(ROOT, "436000-2000x30", MILLION, "0+0x60"),
                    **files(BOTTLEROCKET_ROOT, "410000-2000x30", MILLION, "1+0x60"),
                },
                "90m",
                interval="5m",
            ),
            Scenario("low-but-steady", files(ROOT, "300000+0x30", MILLION, "0+0x60"), "90m", interval="5m"),
        ),
    ),
    Case(
        "NodeFilesystemAlmostOutOfFiles",
        firing=(
            Scenario(
                "9.9-percent",
                files(ROOT, "99000+0x30", MILLION, "0+0x30"),
                "20m",
                (
                    Expected(
                        c.PAGE,
                        labels(ROOT),
                        "Filesystem / (/dev/nvme0n1p1) on node ip-10-0-1-10.ec2.internal has 9.9% of its "
                        "inodes free. The kubelet evicts pods below 5%.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "10-percent-or-read-only",
                {
                    **files(ROOT, "100000+0x30", MILLION, "0+0x30"),
                    **files(BOTTLEROCKET_ROOT, "0+0x30", MILLION, "1+0x30"),
                },
                "20m",
            ),
        ),
    ),
    Case(
        "NodeClockSkewDetected",
        firing=(
            # deriv needs two samples: true from 1m, firing from 11m.
            Scenario(
                "60ms-ahead",
                {OFFSET: "0.06+0x30"},
                "15m",
                (
                    Expected(
                        c.TICKET,
                        labels(NODE),
                        "The clock of node ip-10-0-1-10.ec2.internal has been 60ms off for 10 minutes and is "
                        "not converging: chrony is not synchronising.",
                    ),
                ),
                quiet_at=("10m",),
            ),
            Scenario(
                "60ms-behind-and-drifting",
                {OFFSET: "-0.06-0.001x30"},
                "15m",
                (
                    Expected(
                        c.TICKET,
                        labels(NODE),
                        "The clock of node ip-10-0-1-10.ec2.internal has been -75ms off for 10 minutes and "
                        "is not converging: chrony is not synchronising.",
                    ),
                ),
            ),
        ),
        quiet=(
            Scenario("50ms", {OFFSET: "0.05+0x30"}, "15m"),
            Scenario("200ms-converging", {OFFSET: "0.2-0.005x30"}, "15m"),
        ),
    ),
    Case(
        "NodeHighNumberConntrackEntriesUsed",
        firing=(
            # 98,500 of 131,072 (kube-proxy's minimum conntrack table): 75.15 %.
            Scenario(
                "just-over-75-percent",
                {f"{CONNTRACK[0]}{{{NODE}}}": "98500+0x30", f"{CONNTRACK[1]}{{{NODE}}}": "131072+0x30"},
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(NODE),
                        "Node ip-10-0-1-10.ec2.internal has used 75.15% of its conntrack table for 15 "
                        "minutes: when it is full, new connections are dropped.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "75-percent",
                {f"{CONNTRACK[0]}{{{NODE}}}": "98304+0x30", f"{CONNTRACK[1]}{{{NODE}}}": "131072+0x30"},
                "20m",
            ),
        ),
    ),
    Case(
        "KubeNodeNotReady",
        firing=(
            Scenario(
                "not-ready",
                {
                    **condition(NODE_NAME, "Ready", "0x30", "1x30"),
                    **cordoned(NODE_NAME, "0x30"),
                    # Cordoned for maintenance: not reported.
                    **condition(OTHER_NODE, "Ready", "0x30", "1x30"),
                    **cordoned(OTHER_NODE, "1x30"),
                },
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(READY),
                        "Node ip-10-0-1-10.ec2.internal has not been Ready for 15 minutes: it takes no new "
                        "pods, and pods without a toleration for it were evicted after 5 minutes.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            # Not ready for 14 minutes (a node joining, a kubelet restart), then ready.
            Scenario(
                "ready-again-after-14m",
                {**condition(NODE_NAME, "Ready", "0x13 1x16", "1x13 0x16"), **cordoned(NODE_NAME, "0x30")},
                "15m",
            ),
        ),
    ),
    Case(
        "KubeNodePressure",
        firing=(
            Scenario(
                "disk-pressure",
                {
                    **condition(NODE_NAME, "DiskPressure", "1x30", "0x30"),
                    **cordoned(NODE_NAME, "0x30"),
                    **condition(OTHER_NODE, "DiskPressure", "1x30", "0x30"),
                    **cordoned(OTHER_NODE, "1x30"),
                },
                "15m",
                (
                    Expected(
                        c.TICKET,
                        labels(DISK_PRESSURE),
                        "Node ip-10-0-1-10.ec2.internal has reported DiskPressure for 10 minutes: usage is "
                        "past the kubelet's eviction threshold, it evicts pods and admits no new ones that "
                        "would add to it.",
                    ),
                ),
                quiet_at=("9m",),
            ),
        ),
        quiet=(
            Scenario(
                "pressure-for-9m",
                {
                    **condition(NODE_NAME, "MemoryPressure", "1x8 0x21", "0x8 1x21"),
                    **cordoned(NODE_NAME, "0x30"),
                },
                "10m",
            ),
        ),
    ),
    Case(
        "KubeNodeReadinessFlapping",
        firing=(
            # Ready flips every 4 minutes: at least 3 changes in any 15 minutes, from 12m on; firing at 27m.
            # At 29m the window holds 4 changes whether it includes its start (Prometheus 2) or not (3).
            Scenario(
                "every-4-minutes",
                {
                    f"kube_node_status_condition{{{EXTERNAL}, {READY}}}": " ".join(["1x3 0x3"] * 4 + ["1x3"]),
                    f'kube_node_spec_unschedulable{{{EXTERNAL}, {KSM}, node="{NODE_NAME}"}}': "0x35",
                },
                "29m",
                (
                    Expected(
                        c.TICKET,
                        labels(EXTERNAL, node=NODE_NAME),
                        "The readiness of node ip-10-0-1-10.ec2.internal changed 4 times in 15 minutes: its "
                        "kubelet keeps losing and regaining its container runtime, its network or the API "
                        "server.",
                    ),
                ),
                quiet_at=("26m",),
            ),
        ),
        quiet=(
            # Every 8 minutes: at most 2 changes in any 15 minutes.
            Scenario(
                "every-8-minutes",
                {
                    f"kube_node_status_condition{{{READY}}}": "1x7 0x7 1x7 0x7 1x7",
                    f'kube_node_spec_unschedulable{{{KSM}, node="{NODE_NAME}"}}': "0x40",
                },
                "35m",
            ),
        ),
    ),
    Case(
        "KubeletTooManyPods",
        firing=(
            # 28 pods where the VPC CNI allows 29 (m7i.large): 96.55 %.
            Scenario(
                "28-of-29",
                pods(NODE_NAME, "10.0.1.10:10250", "28x30", "29x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(EXTERNAL, instance="10.0.1.10:10250", node=NODE_NAME),
                        "Node ip-10-0-1-10.ec2.internal has run 96.55% of its allocatable pods for 15 "
                        "minutes: hardly any more pods fit on it.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "27-of-29-or-fargate",
                {
                    **pods(NODE_NAME, "10.0.1.10:10250", "27x30", "29x30"),
                    # A Fargate node runs its one pod.
                    **pods("fargate-ip-10-0-3-3.ec2.internal", "10.0.3.3:10250", "1x30", "1x30"),
                },
                "20m",
            ),
        ),
    ),
)
