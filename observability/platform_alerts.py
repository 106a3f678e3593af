"""The curated platform alerts: a few small groups that are right on EKS, each with a runbook.

Shapes follow kubernetes-mixin, node-mixin, postgres-mixin and prometheus-mixin, trimmed to this platform and
rewritten to read only series the agent keeps (observability/catalog.py). Aggregations keep the
labels a runbook needs (namespace, pod, node, persistentvolumeclaim, ...) and the agent's external labels.

Left out on purpose, because they cannot work on EKS: etcd alerts (EKS runs etcd for us and exposes no etcd
metrics) and "scheduler / controller-manager down" (`absent(up{job="kube-scheduler"})` and the like). The
control plane is managed, the agent cannot scrape those components, so such alerts would fire forever.
Control-plane health reaches us only through the API server, which is an ordinary target here.

Two alerts watch the watchers: `PrometheusAgentAbsent` catches a pipeline that delivers nothing at all
(the agent's own remote-write alerts travel through the same pipeline and go quiet with it), and
`Watchdog` always fires, so a dead man's switch downstream notices when alert delivery itself stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from observability import conventions as c
from observability import jobs, names


@dataclass(frozen=True, kw_only=True)
class Alert:
    name: str  # PascalCase; its runbook is docs/runbooks/<name>.md
    severity: str  # conventions.PAGE | TICKET (Watchdog: NONE)
    expr: str
    for_: str  # "" = fire on the first evaluation
    summary: str
    description: str  # Go template: {{ $labels.x }}, {{ $value }}


def _by(*labels: str) -> str:
    """An aggregation clause that keeps the external labels too."""
    return f"by ({', '.join((*c.EXTERNAL_LABELS, *labels))})"


def _job(name: str) -> str:
    return f'job="{name}"'


KSM = _job(jobs.KUBE_STATE_METRICS)
NODE = f'{_job(jobs.NODE_EXPORTER)}, fstype!=""'
KUBELET = _job(jobs.KUBELET)
AGENT = _job(jobs.PROMETHEUS_AGENT)
ALL_JOBS = "|".join(jobs.JOBS)
POD = "{{ $labels.namespace }}/{{ $labels.pod }}"

WATCHDOG = Alert(
    name="Watchdog",
    severity=c.NONE,
    expr="vector(1)",
    for_="",
    summary="Always firing: proves that rules are evaluated and alerts delivered.",
    description="Watchdog fires all the time. If its notifications stop, alerting itself is broken.",
)

TARGETS = (
    Alert(
        name="TargetDown",
        severity=c.TICKET,
        expr=f'up{{job=~"{ALL_JOBS}"}} == 0',
        for_="10m",
        summary="A scrape target is down.",
        description=(
            "The agent has failed to scrape {{ $labels.job }} target {{ $labels.instance }}"
            "{{ with $labels.pod }} (pod {{ $labels.namespace }}/{{ . }}){{ end }}"
            "{{ with $labels.node }} on node {{ . }}{{ end }} for 10 minutes."
        ),
    ),
    Alert(
        name="KubeStateMetricsAbsent",
        severity=c.TICKET,
        expr=f"absent(up{{{KSM}}} == 1)",
        for_="15m",
        summary="kube-state-metrics is not being scraped.",
        description=(
            "No successful kube-state-metrics scrape for 15 minutes: the pod, Deployment and "
            "StatefulSet alerts cannot fire."
        ),
    ),
    Alert(
        name="PrometheusAgentAbsent",
        severity=c.PAGE,
        expr=f"absent(up{{{AGENT}}} == 1)",
        for_="10m",
        summary="No data from the Prometheus agent: the metrics pipeline is down.",
        description=(
            "Amazon Managed Prometheus has had no fresh sample of the agent's own scrape for 10 minutes: "
            "the agent is down, cannot scrape itself, or cannot deliver. No other alert can fire meanwhile."
        ),
    ),
)

NODES = (
    Alert(
        name="NodeFilesystemSpaceFillingUp",
        severity=c.TICKET,
        expr=f"""(
  node_filesystem_avail_bytes{{{NODE}}} / node_filesystem_size_bytes{{{NODE}}} * 100 < 40
and
  predict_linear(node_filesystem_avail_bytes{{{NODE}}}[6h], 24 * 60 * 60) < 0
and
  node_filesystem_readonly{{{NODE}}} == 0
)""",
        for_="1h",
        summary="A node filesystem is predicted to run out of space within 24 hours.",
        description=(
            "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.node }} has "
            '{{ printf "%.1f" $value }}% space left and is predicted to fill within 24 hours.'
        ),
    ),
    Alert(
        name="NodeFilesystemAlmostOutOfSpace",
        severity=c.PAGE,
        # Under 15 %: the kubelet's image garbage collection (from 85 % used) has not kept up, and its
        # default hard eviction threshold (nodefs.available < 10 %) is close.
        expr=f"""(
  node_filesystem_avail_bytes{{{NODE}}} / node_filesystem_size_bytes{{{NODE}}} * 100 < 15
and
  node_filesystem_readonly{{{NODE}}} == 0
)""",
        for_="15m",
        summary="A node filesystem has less than 15% space left: pod evictions are near.",
        description=(
            "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.node }} has "
            '{{ printf "%.1f" $value }}% space left. The kubelet evicts pods below 10%.'
        ),
    ),
    Alert(
        name="NodeMemoryHighUtilization",
        severity=c.TICKET,
        expr=f"""100 * (
  1 - node_memory_MemAvailable_bytes{{{_job(jobs.NODE_EXPORTER)}}}
    / node_memory_MemTotal_bytes{{{_job(jobs.NODE_EXPORTER)}}}
) > 90""",
        for_="15m",
        summary="A node is running out of memory.",
        description=(
            'Node {{ $labels.node }} has used {{ printf "%.1f" $value }}% of its memory for 15 minutes: '
            "the kubelet evicts pods or the kernel kills processes next."
        ),
    ),
)

WORKLOADS = (
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
    Alert(
        name="KubeStatefulSetReplicasMismatch",
        severity=c.TICKET,
        expr=f"""(
  kube_statefulset_replicas{{{KSM}}} > kube_statefulset_status_replicas_ready{{{KSM}}}
) and (
  changes(kube_statefulset_status_replicas_updated{{{KSM}}}[10m]) == 0
)""",
        for_="15m",
        summary="A StatefulSet has fewer ready replicas than desired.",
        description=(
            "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has had fewer ready replicas "
            "than desired for 15 minutes, and no rollout is making progress."
        ),
    ),
)

_PVC = "PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}"
_PVC_FREE = (
    f"kubelet_volume_stats_available_bytes{{{KUBELET}}} / kubelet_volume_stats_capacity_bytes{{{KUBELET}}}"
)
_PVC_USED = f"kubelet_volume_stats_used_bytes{{{KUBELET}}} > 0"  # volumes that report 0 report nothing
STORAGE = (
    # One alert name, two severities (as in kubernetes-mixin): the page silences the ticket.
    Alert(
        name="KubePersistentVolumeFillingUp",
        severity=c.PAGE,
        expr=f"(\n  {_PVC_FREE} < 0.03\nand\n  {_PVC_USED}\n)",
        for_="1m",
        summary="A persistent volume is full.",
        description=f"{_PVC} has only {{{{ $value | humanizePercentage }}}} space left.",
    ),
    Alert(
        name="KubePersistentVolumeFillingUp",
        severity=c.TICKET,
        expr=f"""(
  {_PVC_FREE} < 0.15
and
  {_PVC_USED}
and
  predict_linear(kubelet_volume_stats_available_bytes{{{KUBELET}}}[6h], 4 * 24 * 60 * 60) < 0
)""",
        for_="1h",
        summary="A persistent volume is predicted to fill within four days.",
        description=(
            f"{_PVC} has {{{{ $value | humanizePercentage }}}} space left and is predicted to fill "
            "within four days."
        ),
    ),
)

_PG = _by("namespace", "pod")
POSTGRES = (
    Alert(
        name="PostgresDown",
        severity=c.PAGE,
        # pg_up == 0: the exporter runs but cannot reach Postgres. absent: no exporter reports at all
        # (the pod is gone or unschedulable), which pg_up alone would never notice.
        expr=f'pg_up == 0\nor\nabsent(pg_up{{namespace="{names.APP_NAMESPACE}"}})',
        for_="2m",
        summary="Postgres is down.",
        description=(
            "Postgres {{ with $labels.pod }}pod {{ $labels.namespace }}/{{ . }}{{ else }}in namespace "
            "{{ $labels.namespace }}{{ end }} has not answered its exporter for 2 minutes, or no exporter "
            "reports at all."
        ),
    ),
    Alert(
        name="PostgresTooManyConnections",
        severity=c.TICKET,
        # As postgres-mixin: the superuser-reserved slots are not available to the application.
        expr=f"""sum {_PG} (pg_stat_activity_count)
>
0.8 * (
  max {_PG} (pg_settings_max_connections)
  -
  max {_PG} (pg_settings_superuser_reserved_connections)
)""",
        for_="10m",
        summary="Postgres uses more than 80% of its connections.",
        description=(
            f'Postgres pod {POD} has {{{{ printf "%.0f" $value }}}} connections, over 80% of those the '
            "application may open: new connections will soon be refused."
        ),
    ),
    Alert(
        name="PostgresDeadlocks",
        severity=c.TICKET,
        expr=f"sum {_by('namespace', 'pod', 'datname')} (increase(pg_stat_database_deadlocks[15m])) > 3",
        for_="5m",
        summary="Postgres transactions keep deadlocking.",
        description=(
            f'Database {{{{ $labels.datname }}}} in pod {POD} had {{{{ printf "%.0f" $value }}}} deadlocks '
            "in the last 15 minutes: each one aborted a transaction."
        ),
    ),
)

PIPELINE = (
    Alert(
        name="PrometheusRemoteStorageFailures",
        severity=c.PAGE,
        expr=f"""(
  rate(prometheus_remote_storage_samples_failed_total{{{AGENT}}}[5m])
/
  (
    rate(prometheus_remote_storage_samples_failed_total{{{AGENT}}}[5m])
  +
    rate(prometheus_remote_storage_samples_total{{{AGENT}}}[5m])
  )
) * 100 > 1""",
        for_="15m",
        summary="The agent fails to send samples to Amazon Managed Prometheus.",
        description=(
            'Agent {{ $labels.pod }} failed to send {{ printf "%.1f" $value }}% of its samples to '
            "{{ $labels.remote_name }} for 15 minutes: those samples are lost."
        ),
    ),
    Alert(
        name="PrometheusRemoteWriteBehind",
        severity=c.TICKET,
        # max_over_time: a missed scrape of the agent must not reset the alert (prometheus-mixin).
        expr=f"""(
  max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{{{AGENT}}}[5m])
- ignoring (remote_name, url) group_right
  max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{AGENT}}}[5m])
) > 120""",
        for_="15m",
        summary="The agent's remote write is falling behind.",
        description=(
            "Agent {{ $labels.pod }} is {{ $value | humanizeDuration }} behind in sending to "
            "{{ $labels.remote_name }}: alerts evaluated in Amazon Managed Prometheus see old data."
        ),
    ),
)

GROUPS: Mapping[str, tuple[Alert, ...]] = {
    "platform-watchdog": (WATCHDOG,),
    "platform-targets": TARGETS,
    "platform-nodes": NODES,
    "platform-workloads": WORKLOADS,
    "platform-storage": STORAGE,
    "platform-postgres": POSTGRES,
    "platform-pipeline": PIPELINE,
}
ALERTS: tuple[Alert, ...] = tuple(alert for group in GROUPS.values() for alert in group)
ALERT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(alert.name for alert in ALERTS))


def _rule(alert: Alert, runbook_base_url: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert.name, "expr": alert.expr}
    if alert.for_:
        rule["for"] = alert.for_
    rule["labels"] = {c.SEVERITY_LABEL: alert.severity}
    rule["annotations"] = {
        c.SUMMARY: alert.summary,
        c.DESCRIPTION: alert.description,
        c.RUNBOOK_URL: c.runbook_url(runbook_base_url, alert.name),
    }
    return rule


def rules_file(*, runbook_base_url: str) -> dict[str, Any]:
    """The platform alerts as a Prometheus rules document (`{"groups": [...]}`); `runbook_base_url` is where
    docs/runbooks is served (see conventions.runbook_url)."""
    if not runbook_base_url.strip():
        raise ValueError("runbook_base_url must not be empty")
    return {
        "groups": [
            {"name": name, "rules": [_rule(alert, runbook_base_url) for alert in alerts]}
            for name, alerts in GROUPS.items()
        ]
    }
