"""Targets the agent fails to scrape, and targets it should have but does not.

`TargetDown` needs an `up == 0` series, so a target that vanishes from discovery (the agent's node
discovery broken, a DaemonSet pod that never lands on a node) raises nothing there. The per-node jobs are
counted against the nodes kube-state-metrics reports instead: every node needs a kubelet, a cAdvisor and
a node-exporter target (each target carries the `node` label of the node it was discovered for).
Severity follows what the missing target blinds: the kubelet feeds the full-volume page, which has no
other source (page); node-exporter's full-filesystem page still has a fallback in the kubelet's own
DiskPressure condition (`KubeNodePressure`), and cAdvisor feeds dashboards and a ticket (tickets).
"""

from __future__ import annotations

from observability import conventions as c
from observability import jobs, names
from observability.platform_alerts.alert import AGENT, ALL_JOBS, APISERVER, KSM, Alert, by, job, on


def _node_target_missing(*, name: str, scrape_job: str, severity: str, what: str, blinds: str) -> Alert:
    return Alert(
        name=name,
        severity=severity,
        expr=f"""count {by("node")} (kube_node_info{{{KSM}}})
unless {on("node")}
count {by("node")} (up{{{job(scrape_job)}}})""",
        for_="15m",
        summary=f"A node has no {what} target: its {what} metrics are not collected.",
        description=(
            f"For 15 minutes kube-state-metrics has reported node {{{{ $labels.node }}}} but the agent has "
            f"had no {scrape_job} target for it: {blinds} cannot fire for this node."
        ),
    )


_AGENT_STATEFULSETS = (
    f'namespace="{names.MONITORING_NAMESPACE}", statefulset=~"{names.AGENT_STATEFULSET_PATTERN}"'
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
    # With `monitoring.shards` > 1, PrometheusAgentAbsent stays quiet while any shard delivers: a shard
    # whose agents are all gone takes its targets out of discovery without a trace (no `up == 0`). Its
    # StatefulSet, which kube-state-metrics still reports, has then no agent pod scraped successfully
    # (every agent pod is a target of exactly one shard). Scaled to 0 on purpose: no alert.
    Alert(
        name="PrometheusAgentShardDown",
        severity=c.PAGE,
        expr=f"""count {by("namespace", "statefulset")} (
  kube_statefulset_replicas{{{KSM}, {_AGENT_STATEFULSETS}}} > 0
)
unless {on("namespace", "statefulset")}
count {by("namespace", "statefulset")} (
  label_replace(up{{{AGENT}}} == 1, "statefulset", "$1", "pod", "(.+)-[0-9]+")
)""",
        for_="10m",
        summary="An agent shard is down: its share of the targets is not collected.",
        description=(
            "For 10 minutes no agent pod of StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} "
            "has been scraped successfully: that shard's targets are not collected, and their alerts cannot "
            "fire."
        ),
    ),
    # kubernetes-mixin's KubeletDown counts kubelet targets per cluster; this one per node, so losing
    # one node's target is seen too.
    _node_target_missing(
        name="KubeletDown",
        scrape_job=jobs.KUBELET,
        severity=c.PAGE,
        what="kubelet",
        blinds="KubePersistentVolumeFillingUp, KubePersistentVolumeInodesFillingUp and KubeletTooManyPods",
    ),
    _node_target_missing(
        name="CadvisorDown",
        scrape_job=jobs.CADVISOR,
        severity=c.TICKET,
        what="cAdvisor",
        blinds="CPUThrottlingHigh and the container panels",
    ),
    _node_target_missing(
        name="NodeExporterDown",
        scrape_job=jobs.NODE_EXPORTER,
        severity=c.TICKET,
        what="node-exporter",
        blinds="the node filesystem, memory, clock and conntrack alerts",
    ),
)


# With `monitoring.collector: managed` no agent runs, so nothing scrapes `prometheus-agent` and
# PrometheusAgentAbsent would page forever. The scraper vends `up` for every endpoint it discovers (AMP
# user guide, "Troubleshooting scraper configuration"); the API server's endpoint always exists on EKS, so
# its `up` going silent means the scraper delivers nothing (not ACTIVE, no cluster access, no write).
MANAGED_COLLECTOR_ABSENT = Alert(
    name="ManagedCollectorAbsent",
    severity=c.PAGE,
    expr=f"absent(up{{{APISERVER}}} == 1)",
    for_="10m",
    summary="No data from AMP's managed collector: the metrics pipeline is down.",
    description=(
        "Amazon Managed Prometheus has had no successful scrape of the API server from the managed "
        "collector for 10 minutes: the scraper is not ACTIVE, cannot reach the cluster, or cannot write. "
        "No other alert can fire meanwhile."
    ),
)
