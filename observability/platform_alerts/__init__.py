"""The curated platform alerts: a few small groups that are right on EKS, each alert with a runbook.

Shapes follow kubernetes-mixin, node-mixin, postgres-mixin and prometheus-mixin, trimmed to this platform and
rewritten to read only series the agent keeps (observability/catalog.py). Aggregations keep the
labels a runbook needs (namespace, pod, node, persistentvolumeclaim, ...) and the agent's external labels.
Each module holds a few groups: targets, nodes, workloads, storage, postgres, pipeline. Where an alert
shares its name with kubernetes-mixin, the mixin's own test cases run against it
(tests/rules/test_kubernetes_mixin.py); docs/platform-alerts.md lists every mixin alert left out and why.

Left out on purpose, because they cannot work on EKS: etcd alerts (EKS runs etcd for us and exposes no etcd
metrics) and "scheduler / controller-manager down" (`absent(up{job="kube-scheduler"})` and the like). The
control plane is managed, the agent cannot scrape those components, so such alerts would fire forever.
Control-plane health reaches us only through the API server, which is an ordinary target here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from observability import conventions as c
from observability.platform_alerts.alert import Alert
from observability.platform_alerts.nodes import HOSTS, KUBE_NODES
from observability.platform_alerts.pipeline import PIPELINE, WATCHDOG
from observability.platform_alerts.postgres import POSTGRES
from observability.platform_alerts.storage import STORAGE
from observability.platform_alerts.targets import MANAGED_COLLECTOR_ABSENT, TARGETS
from observability.platform_alerts.workloads import CONTROLLERS, DAEMONSETS, PODS

__all__ = ["ALERTS", "ALERT_NAMES", "GROUPS", "MANAGED_GROUPS", "WATCHDOG", "Alert", "groups", "rules_file"]

GROUPS: Mapping[str, tuple[Alert, ...]] = {
    "platform-watchdog": (WATCHDOG,),
    "platform-targets": TARGETS,
    "platform-nodes": HOSTS,
    "platform-kube-nodes": KUBE_NODES,
    "platform-pods": PODS,
    "platform-workloads": CONTROLLERS,
    "platform-daemonsets": DAEMONSETS,
    "platform-storage": STORAGE,
    "platform-postgres": POSTGRES,
    "platform-pipeline": PIPELINE,
}
# With the managed collector (monitoring.collector: managed): the alerts about our agent go (its absence,
# its shards, its remote write: about pods and series that exist only where agents run) and the scraper's
# absence pages instead.
AGENT_ONLY = frozenset({"PrometheusAgentAbsent", "PrometheusAgentShardDown"})
MANAGED_GROUPS: Mapping[str, tuple[Alert, ...]] = {
    **{
        name: tuple(alert for alert in alerts if alert.name not in AGENT_ONLY)
        for name, alerts in GROUPS.items()
        if name != "platform-pipeline"
    },
    "platform-collector": (MANAGED_COLLECTOR_ABSENT,),
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


def groups(*, managed_collector: bool = False) -> Mapping[str, tuple[Alert, ...]]:
    """The groups for our agents, or for AMP's managed collector."""
    return MANAGED_GROUPS if managed_collector else GROUPS


def rules_file(*, runbook_base_url: str, managed_collector: bool = False) -> dict[str, Any]:
    """The platform alerts as a Prometheus rules document (`{"groups": [...]}`); `runbook_base_url` is where
    docs/runbooks is served (see conventions.runbook_url)."""
    if not runbook_base_url.strip():
        raise ValueError("runbook_base_url must not be empty")
    return {
        "groups": [
            {"name": name, "rules": [_rule(alert, runbook_base_url) for alert in alerts]}
            for name, alerts in groups(managed_collector=managed_collector).items()
        ]
    }
