"""Workloads: pods that crash, never start or never become ready, controllers that do not reach what they
want (Deployments, StatefulSets, DaemonSets, autoscalers), and containers starved by their CPU limit.

Shapes follow kubernetes-mixin (kube-state-metrics and cAdvisor series); differences say why next to them.
"""

from __future__ import annotations

from observability import conventions as c
from observability.platform_alerts.alert import CADVISOR, KSM, POD, Alert, by, on

_HPA = "HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }}"
_DS = "DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }}"

PODS = (
    Alert(
        name="KubePodCrashLooping",
        severity=c.TICKET,
        expr=(
            "max_over_time(kube_pod_container_status_waiting_reason"
            f'{{{KSM}, reason="CrashLoopBackOff"}}[5m]) >= 1'
        ),
        for_="15m",
        summary="A container is crash looping.",
        description=(
            f"Container {{{{ $labels.container }}}} of pod {POD} has been in CrashLoopBackOff for 15 minutes."
        ),
    ),
    # An image it cannot pull (ImagePullBackOff and ErrImagePull take turns), a Secret or ConfigMap it
    # cannot find (CreateContainerConfigError), a volume it cannot mount (ContainerCreating: the EBS or
    # Secrets Store CSI driver failing). kubernetes-mixin waits 1h on the raw series; the reason is left
    # out of the labels and short gaps are bridged, so the alternating reasons are one alert, and a
    # failure that will not heal by itself is reported after 15 minutes.
    Alert(
        name="KubeContainerWaiting",
        severity=c.TICKET,
        expr=f"""max {by("namespace", "pod", "container")} (
  max_over_time(kube_pod_container_status_waiting_reason{{{KSM}, reason!="CrashLoopBackOff"}}[5m])
) >= 1""",
        for_="15m",
        summary="A container has been waiting to start for 15 minutes.",
        description=(
            f"Container {{{{ $labels.container }}}} of pod {POD} has not started for 15 minutes: an image it "
            "cannot pull, a Secret or ConfigMap it cannot find, or a volume it cannot mount."
        ),
    ),
    # kubernetes-mixin also skips pods held by scheduling gates (`kube_pod_status_reason`); nothing here
    # uses scheduling gates, and that series costs about 6 series per pod.
    Alert(
        name="KubePodNotReady",
        severity=c.TICKET,
        expr=f"""sum {by("namespace", "pod", "job")} (
  max {by("namespace", "pod", "job")} (
    kube_pod_status_phase{{{KSM}, phase=~"Pending|Unknown"}}
    or
    (
      kube_pod_status_phase{{{KSM}, phase="Running"}} == 1
      and {on("namespace", "pod")}
      kube_pod_status_ready{{{KSM}, condition="true"}} == 0
    )
  )
  * {on("namespace", "pod")} group_left ()
  topk {by("namespace", "pod")} (
    1, max {by("namespace", "pod", "owner_kind")} (kube_pod_owner{{{KSM}, owner_kind!="Job"}})
  )
) > 0""",
        for_="15m",
        summary="A pod has not been ready for 15 minutes.",
        description=(
            f"Pod {POD} has been Pending or not ready for 15 minutes: it cannot be scheduled (no node with "
            "room, a volume in another zone), cannot start, or fails its readiness probe."
        ),
    ),
)

CONTROLLERS = (
    Alert(
        name="KubeDeploymentReplicasMismatch",
        severity=c.TICKET,
        expr=f"""(
  kube_deployment_spec_replicas{{{KSM}}} > kube_deployment_status_replicas_available{{{KSM}}}
) and (
  changes(kube_deployment_status_replicas_updated{{{KSM}}}[10m]) == 0
)""",
        for_="15m",
        summary="A Deployment has fewer available replicas than desired.",
        description=(
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had fewer available replicas "
            "than desired for 15 minutes, and no rollout is making progress."
        ),
    ),
    # Progressing=False: the rollout exceeded the Deployment's progressDeadlineSeconds (600 by default).
    Alert(
        name="KubeDeploymentRolloutStuck",
        severity=c.TICKET,
        expr=f'kube_deployment_status_condition{{{KSM}, condition="Progressing", status="false"}} != 0',
        for_="15m",
        summary="A Deployment's rollout is not progressing.",
        description=(
            "The rollout of Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has been past its "
            "progress deadline for 15 minutes: its new pods do not become available."
        ),
    ),
    # `!=`, as kubernetes-mixin: a scale-down that never finishes is a mismatch too.
    Alert(
        name="KubeStatefulSetReplicasMismatch",
        severity=c.TICKET,
        expr=f"""(
  kube_statefulset_status_replicas_ready{{{KSM}}} != kube_statefulset_replicas{{{KSM}}}
) and (
  changes(kube_statefulset_status_replicas_updated{{{KSM}}}[10m]) == 0
)""",
        for_="15m",
        summary="A StatefulSet does not have the ready replicas it wants.",
        description=(
            "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has not had the number of ready "
            "replicas it wants for 15 minutes, and no rollout is making progress."
        ),
    ),
    # Pinned autoscalers (min == max) are at their maximum by design.
    Alert(
        name="KubeHpaMaxedOut",
        severity=c.TICKET,
        expr=f"""(
  kube_horizontalpodautoscaler_status_current_replicas{{{KSM}}}
    ==
  kube_horizontalpodautoscaler_spec_max_replicas{{{KSM}}}
)
and {on("namespace", "horizontalpodautoscaler")} (
  kube_horizontalpodautoscaler_spec_max_replicas{{{KSM}}}
    !=
  kube_horizontalpodautoscaler_spec_min_replicas{{{KSM}}}
)""",
        for_="15m",
        summary="An autoscaler has run at its maximum replicas for 15 minutes.",
        description=(
            f"{_HPA} has run at its maximum of {{{{ $value }}}} replicas for 15 minutes: more load is not "
            "met with more pods."
        ),
    ),
    # As kubernetes-mixin: `topk ... 1` keeps one series per container where cAdvisor reports duplicates.
    Alert(
        name="CPUThrottlingHigh",
        severity=c.TICKET,
        expr=f"""sum without (id, metrics_path, name, image, endpoint, job, node) (
  topk {by("namespace", "pod", "container", "instance")} (
    1, increase(container_cpu_cfs_throttled_periods_total{{container!="", {CADVISOR}}}[5m])
  )
)
/ {on("namespace", "pod", "container", "instance")} group_left
sum without (id, metrics_path, name, image, endpoint, job, node) (
  topk {by("namespace", "pod", "container", "instance")} (
    1, increase(container_cpu_cfs_periods_total{{{CADVISOR}}}[5m])
  )
)
> 0.25""",
        for_="15m",
        summary="A container is throttled by its CPU limit.",
        description=(
            f"Container {{{{ $labels.container }}}} of pod {POD} was throttled in "
            "{{ $value | humanizePercentage }} of its CPU periods for 15 minutes: its CPU limit slows it "
            "down."
        ),
    ),
)

DAEMONSETS = (
    # aws-node (VPC CNI), kube-proxy, ebs-csi-node, eks-pod-identity-agent and node-exporter: a node
    # without one of them cannot run pods, reach services, mount volumes, get AWS credentials or be watched.
    Alert(
        name="KubeDaemonSetRolloutStuck",
        severity=c.TICKET,
        expr=f"""(
  (
    kube_daemonset_status_current_number_scheduled{{{KSM}}}
      !=
    kube_daemonset_status_desired_number_scheduled{{{KSM}}}
  ) or (
    kube_daemonset_status_number_misscheduled{{{KSM}}}
      !=
    0
  ) or (
    kube_daemonset_status_updated_number_scheduled{{{KSM}}}
      !=
    kube_daemonset_status_desired_number_scheduled{{{KSM}}}
  ) or (
    kube_daemonset_status_number_available{{{KSM}}}
      !=
    kube_daemonset_status_desired_number_scheduled{{{KSM}}}
  )
) and (
  changes(kube_daemonset_status_updated_number_scheduled{{{KSM}}}[5m])
    ==
  0
)""",
        for_="15m",
        summary="A DaemonSet's rollout is stuck.",
        description=(
            f"{_DS} has not finished or progressed for 15 minutes: some nodes run no pod of it, an old "
            "one, or one that is not available."
        ),
    ),
    Alert(
        name="KubeDaemonSetNotScheduled",
        severity=c.TICKET,
        expr=f"""kube_daemonset_status_desired_number_scheduled{{{KSM}}}
  -
kube_daemonset_status_current_number_scheduled{{{KSM}}} > 0""",
        for_="10m",
        summary="Nodes that should run a DaemonSet's pod do not.",
        description=f"{_DS} has been missing from {{{{ $value }}}} node(s) it should run on for 10 minutes.",
    ),
    Alert(
        name="KubeDaemonSetMisScheduled",
        severity=c.TICKET,
        expr=f"kube_daemonset_status_number_misscheduled{{{KSM}}} > 0",
        for_="15m",
        summary="A DaemonSet's pods run on nodes they should not run on.",
        description=(f"{_DS} has run {{{{ $value }}}} pod(s) on nodes it should not run on for 15 minutes."),
    ),
)
