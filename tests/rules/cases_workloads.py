"""Cases of the workload and storage alerts added for EKS: containers that never start, pods never ready,
stuck rollouts, DaemonSets, autoscalers at their maximum, CPU throttling, volumes out of inodes."""

from __future__ import annotations

from observability import conventions as c
from tests.rules.alert_cases import (
    CADVISOR,
    EXTERNAL,
    KSM,
    KUBELET,
    PVC_SERIES,
    Case,
    Expected,
    Scenario,
    labels,
)

WAITING = "kube_pod_container_status_waiting_reason"
API_POD = 'namespace="orders", pod="orders-api-7d9f8b6c5d-x2x9q"'
API_CONTAINER = f'{API_POD}, container="orders-api"'
CONTROLLER = 'owner_is_controller="true"'
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
DEPLOYMENT = f'{KSM}, namespace="orders", deployment="orders-api"'
HPA = f'{KSM}, namespace="orders", horizontalpodautoscaler="orders-api"'
AWS_NODE = f'{KSM}, namespace="kube-system", daemonset="aws-node"'
THROTTLED = f'{CADVISOR}, {API_CONTAINER}, id="/kubepods.slice/kubepods-burstable.slice/cri-containerd-1.scope", image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api:1.4.2", name="1"'  # noqa: E501


def phase(pod: str, current: str, values: str, otherwise: str = "0x30") -> dict[str, str]:
    """kube-state-metrics writes every phase of a pod: 1 for its current phase, 0 for the others."""
    return {
        f'kube_pod_status_phase{{{KSM}, {pod}, phase="{name}"}}': values if name == current else otherwise
        for name in PHASES
    }


def ready(pod: str, values: str) -> dict[str, str]:
    return {f'kube_pod_status_ready{{{KSM}, {pod}, condition="true"}}': values}


def owner(pod: str, kind: str, name: str) -> dict[str, str]:
    return {f'kube_pod_owner{{{KSM}, {pod}, owner_kind="{kind}", owner_name="{name}", {CONTROLLER}}}': "1x30"}


CONDITION = "kube_deployment_status_condition"


def progressing(status_false: str) -> dict[str, str]:
    return {
        f'{CONDITION}{{{DEPLOYMENT}, condition="Progressing", status="false"}}': status_false,
        f'{CONDITION}{{{DEPLOYMENT}, condition="Available", status="false"}}': "0x30",
    }


def hpa(current: str, minimum: str, maximum: str) -> dict[str, str]:
    return {
        f"kube_horizontalpodautoscaler_status_current_replicas{{{HPA}}}": current,
        f"kube_horizontalpodautoscaler_spec_min_replicas{{{HPA}}}": minimum,
        f"kube_horizontalpodautoscaler_spec_max_replicas{{{HPA}}}": maximum,
    }


def daemonset(
    selector: str, *, desired: str, current: str, updated: str, available: str, misscheduled: str = "0x30"
) -> dict[str, str]:
    status = "kube_daemonset_status"
    return {
        f"{status}_desired_number_scheduled{{{selector}}}": desired,
        f"{status}_current_number_scheduled{{{selector}}}": current,
        f"{status}_updated_number_scheduled{{{selector}}}": updated,
        f"{status}_number_available{{{selector}}}": available,
        f"{status}_number_misscheduled{{{selector}}}": misscheduled,
    }


def throttling(throttled_per_minute: int) -> dict[str, str]:
    """cAdvisor counts 100 CFS periods a minute here, `throttled_per_minute` of them throttled."""
    return {
        f"container_cpu_cfs_throttled_periods_total{{{EXTERNAL}, {THROTTLED}}}": (
            f"0+{throttled_per_minute}x30"
        ),
        f"container_cpu_cfs_periods_total{{{EXTERNAL}, {THROTTLED}}}": "0+100x30",
    }


def inodes(selector: str, free: str, total: str, used: str) -> dict[str, str]:
    return {
        f"kubelet_volume_stats_inodes_free{{{selector}}}": free,
        f"kubelet_volume_stats_inodes{{{selector}}}": total,
        f"kubelet_volume_stats_inodes_used{{{selector}}}": used,
    }


NOT_STARTED = (
    "Container orders-api of pod orders/orders-api-7d9f8b6c5d-x2x9q has not started for 15 minutes: an image "
    "it cannot pull, a Secret or ConfigMap it cannot find, or a volume it cannot mount."
)
STUCK_POD = 'namespace="orders", pod="orders-api-7d9f8b6c5d-x2x9q"'
UNREADY_POD = 'namespace="orders", pod="postgres-0"'

CASES = (
    Case(
        "KubeContainerWaiting",
        firing=(
            # An image pull failing: ErrImagePull at each attempt, ImagePullBackOff in between.
            Scenario(
                "image-pull",
                {
                    f'{WAITING}{{{KSM}, {API_CONTAINER}, reason="ImagePullBackOff"}}': " ".join(
                        ["_ 1x3"] * 5
                    ),
                    f'{WAITING}{{{KSM}, {API_CONTAINER}, reason="ErrImagePull"}}': " ".join(["1 _x4"] * 5),
                },
                "19m",
                (Expected(c.TICKET, labels(API_CONTAINER), NOT_STARTED),),
                quiet_at=("14m",),
            ),
            Scenario(
                "secret-missing",
                {f'{WAITING}{{{KSM}, {API_CONTAINER}, reason="CreateContainerConfigError"}}': "1x30"},
                "15m",
                (Expected(c.TICKET, labels(API_CONTAINER), NOT_STARTED),),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            # Waiting 9 minutes (a large image), then running: true through 14m (5m window), never for 15m.
            Scenario(
                "started-after-9m-or-crash-looping",
                {
                    f'{WAITING}{{{KSM}, {API_CONTAINER}, reason="ContainerCreating"}}': "1x9 _x20",
                    f'{WAITING}{{{KSM}, namespace="orders", pod="orders-api-2", container="orders-api", reason="CrashLoopBackOff"}}': (  # noqa: E501
                        "1x30"
                    ),
                },
                "15m",
            ),
        ),
    ),
    Case(
        "KubePodNotReady",
        firing=(
            Scenario(
                "pending-or-unready",
                {
                    # Pending: no node with room (the autoscaler at its maximum).
                    **phase(STUCK_POD, "Pending", "1x30"),
                    **owner(STUCK_POD, "ReplicaSet", "orders-api-7d9f8b6c5d"),
                    # Running but failing its readiness probe.
                    **phase(UNREADY_POD, "Running", "1x30"),
                    **ready(UNREADY_POD, "0x30"),
                    **owner(UNREADY_POD, "StatefulSet", "postgres"),
                },
                "20m",
                (
                    Expected(
                        c.TICKET,
                        {
                            "job": "kube-state-metrics",
                            "namespace": "orders",
                            "pod": "orders-api-7d9f8b6c5d-x2x9q",
                        },
                        "Pod orders/orders-api-7d9f8b6c5d-x2x9q has been Pending or not ready for 15 "
                        "minutes: it cannot be scheduled (no node with room, a volume in another zone), "
                        "cannot start, or fails its readiness probe.",
                    ),
                    Expected(
                        c.TICKET,
                        {"job": "kube-state-metrics", "namespace": "orders", "pod": "postgres-0"},
                        "Pod orders/postgres-0 has been Pending or not ready for 15 minutes: it cannot be "
                        "scheduled (no node with room, a volume in another zone), cannot start, or fails its "
                        "readiness probe.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "pending-14m-or-job-or-ready",
                {
                    **phase(STUCK_POD, "Pending", "1x13 0x16"),
                    **{f'kube_pod_status_phase{{{KSM}, {STUCK_POD}, phase="Running"}}': "0x13 1x16"},
                    **ready(STUCK_POD, "0x13 1x16"),
                    **owner(STUCK_POD, "ReplicaSet", "orders-api-7d9f8b6c5d"),
                    # A Job's pod waiting for room is the Job's business.
                    **phase('namespace="orders", pod="migrate-x7x2k"', "Pending", "1x30"),
                    **owner('namespace="orders", pod="migrate-x7x2k"', "Job", "migrate"),
                    **phase(UNREADY_POD, "Running", "1x30"),
                    **ready(UNREADY_POD, "1x30"),
                    **owner(UNREADY_POD, "StatefulSet", "postgres"),
                },
                "15m",
            ),
        ),
    ),
    Case(
        "KubeDeploymentRolloutStuck",
        firing=(
            Scenario(
                "past-deadline",
                progressing("1x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(DEPLOYMENT, condition="Progressing", status="false"),
                        "The rollout of Deployment orders/orders-api has been past its progress deadline "
                        "for 15 minutes: its new pods do not become available.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(Scenario("progressing-again-after-14m", progressing("1x13 0x16"), "15m"),),
    ),
    Case(
        "KubeHpaMaxedOut",
        firing=(
            Scenario(
                "10-of-10",
                hpa("10x30", "2x30", "10x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(HPA),
                        "HorizontalPodAutoscaler orders/orders-api has run at its maximum of 10 replicas "
                        "for 15 minutes: more load is not met with more pods.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario("9-of-10", hpa("9x30", "2x30", "10x30"), "20m"),
            Scenario("pinned", hpa("3x30", "3x30", "3x30"), "20m"),
        ),
    ),
    Case(
        "CPUThrottlingHigh",
        firing=(
            # increase() needs two samples: true from 1m, firing from 16m.
            Scenario(
                "26-percent",
                throttling(26),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(f"{EXTERNAL}, {API_CONTAINER}", instance="10.0.1.10:10250"),
                        "Container orders-api of pod orders/orders-api-7d9f8b6c5d-x2x9q was throttled in "
                        "26% of its CPU periods for 15 minutes: its CPU limit slows it down.",
                    ),
                ),
                quiet_at=("15m",),
            ),
        ),
        quiet=(Scenario("25-percent", throttling(25), "20m"),),
    ),
    Case(
        "KubeDaemonSetRolloutStuck",
        firing=(
            # The new aws-node pod does not become available on one of 3 nodes.
            Scenario(
                "one-node-behind",
                daemonset(AWS_NODE, desired="3x30", current="3x30", updated="2x30", available="2x30"),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(AWS_NODE),
                        "DaemonSet kube-system/aws-node has not finished or progressed for 15 minutes: some "
                        "nodes run no pod of it, an old one, or one that is not available.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            # Stuck for 14 minutes, then the last node is updated.
            Scenario(
                "done-after-14m",
                daemonset(
                    AWS_NODE, desired="3x30", current="3x30", updated="2x13 3x16", available="2x13 3x16"
                ),
                "15m",
            ),
        ),
    ),
    Case(
        "KubeDaemonSetNotScheduled",
        firing=(
            Scenario(
                "one-node-without",
                daemonset(AWS_NODE, desired="4x30", current="3x30", updated="3x30", available="3x30"),
                "15m",
                (
                    Expected(
                        c.TICKET,
                        labels(AWS_NODE),
                        "DaemonSet kube-system/aws-node has been missing from 1 node(s) it should run on for "
                        "10 minutes.",
                    ),
                ),
                quiet_at=("9m",),
            ),
        ),
        quiet=(
            Scenario(
                "all-scheduled",
                daemonset(AWS_NODE, desired="4x30", current="4x30", updated="4x30", available="4x30"),
                "15m",
            ),
        ),
    ),
    Case(
        "KubeDaemonSetMisScheduled",
        firing=(
            Scenario(
                "one-pod-misplaced",
                daemonset(
                    AWS_NODE,
                    desired="3x30",
                    current="3x30",
                    updated="3x30",
                    available="3x30",
                    misscheduled="1x30",
                ),
                "20m",
                (
                    Expected(
                        c.TICKET,
                        labels(AWS_NODE),
                        "DaemonSet kube-system/aws-node has run 1 pod(s) on nodes it should not run on for "
                        "15 minutes.",
                    ),
                ),
                quiet_at=("14m",),
            ),
        ),
        quiet=(
            Scenario(
                "none-misplaced",
                daemonset(AWS_NODE, desired="3x30", current="3x30", updated="3x30", available="3x30"),
                "20m",
            ),
        ),
    ),
    Case(
        "KubePersistentVolumeInodesFillingUp",
        firing=(
            # 14.9 % of 1,000,000 inodes free, 1,000 fewer every 5 minutes: out within four days.
            Scenario(
                "filling",
                inodes(PVC_SERIES, "149000-1000x40", "1000000+0x40", "851000+1000x40"),
                "2h",
                (
                    Expected(
                        c.TICKET,
                        labels(PVC_SERIES),
                        "PersistentVolumeClaim orders/data-postgres-0 has 12.5% of its inodes free and is "
                        "predicted to run out within four days.",
                    ),
                ),
                interval="5m",
                quiet_at=("64m",),
            ),
            Scenario(
                "2.9-percent",
                inodes(PVC_SERIES, "29000+0x10", "1000000+0x10", "971000+0x10"),
                "5m",
                (
                    Expected(
                        c.PAGE,
                        labels(PVC_SERIES),
                        "PersistentVolumeClaim orders/data-postgres-0 has only 2.9% of its inodes free.",
                    ),
                ),
                quiet_at=("0m",),
            ),
        ),
        quiet=(
            Scenario(
                "3-percent-or-slow-or-unreported",
                {
                    # Exactly 3 % free: not under it.
                    **inodes(PVC_SERIES, "30000+0x40", "1000000+0x40", "970000+0x40"),
                    # Declining 100 per 5 minutes: 115,200 in four days, less than its 149,000 free.
                    **inodes(
                        f'{KUBELET}, namespace="monitoring", persistentvolumeclaim="wal-prometheus-agent-0"',
                        "149000-100x40",
                        "1000000+0x40",
                        "851000+100x40",
                    ),
                    # A block-mode volume reports 0 used.
                    **inodes(
                        f'{KUBELET}, namespace="orders", persistentvolumeclaim="raw"',
                        "0+0x40",
                        "1000000+0x40",
                        "0+0x40",
                    ),
                },
                "2h",
                interval="5m",
            ),
        ),
    ),
)
