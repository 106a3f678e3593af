"""How the platform-alert tests are written: input series in promtool's expanding notation, what fires at
an evaluation time (nothing when `expected` is empty), and the target labels the agent's scrape config
gives each job. Expected labels and descriptions are literals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observability import conventions as c
from observability import platform_alerts as pa

BASE_URL = "https://git.example.com/platform/blob/main/docs/runbooks"

# Target labels as the agent's scrape config sets them, per job.
NODE_NAME = "ip-10-0-1-10.ec2.internal"
OTHER_NODE = "ip-10-0-2-7.ec2.internal"
NODE = f'job="node-exporter", instance="10.0.1.10:9100", namespace="node-exporter", pod="node-exporter-x7k2p", container="node-exporter", node="{NODE_NAME}"'  # noqa: E501
KSM = 'job="kube-state-metrics", instance="10.0.2.9:8080"'
KUBELET = f'job="kubelet", instance="10.0.1.10:10250", node="{NODE_NAME}"'
CADVISOR = f'job="cadvisor", instance="10.0.1.10:10250", node="{NODE_NAME}"'
AGENT = 'job="prometheus-agent", instance="10.0.2.7:9090", namespace="monitoring", pod="prometheus-agent-0", container="prometheus", node="ip-10-0-2-7.ec2.internal"'  # noqa: E501
PG = f'job="pods", instance="10.0.1.20:9187", namespace="orders", pod="postgres-0", container="postgres-exporter", node="{NODE_NAME}"'  # noqa: E501
# The agent's external labels, on every series in AMP: joins must keep them.
EXTERNAL = 'cluster="eks-obs-dev", environment="dev"'
AMP_URL = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
QUEUE = f'{AGENT}, remote_name="amp", url="{AMP_URL}"'
ROOT_FS = 'device="/dev/nvme0n1p1", fstype="xfs", mountpoint="/"'
ROOT = f"{NODE}, {ROOT_FS}"
BOTTLEROCKET_ROOT = f'{NODE}, device="/dev/dm-0", fstype="ext4", mountpoint="/.bottlerocket/rootfs"'
PVC = 'namespace="orders", persistentvolumeclaim="data-postgres-0"'
PVC_SERIES = f"{KUBELET}, {PVC}"


def labels(selector: str, **extra: str) -> dict[str, str]:
    """`a="1", b="2"` as a dict, plus `extra`."""
    return {**dict(re.findall(r'(\w+)="([^"]*)"', selector)), **extra}


@dataclass(frozen=True)
class Expected:
    severity: str
    labels: dict[str, str]
    description: str


@dataclass(frozen=True)
class Scenario:
    """Input series (`series` -> promtool's expanding notation) and what fires at `eval_time`: nothing
    when `expected` is empty. `quiet_at`: earlier evaluation times, on the same input, at which the alert
    has not fired yet (its `for:` not over)."""

    id: str
    series: dict[str, str]
    eval_time: str
    expected: tuple[Expected, ...] = ()
    interval: str = "1m"
    quiet_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    alert: str
    firing: tuple[Scenario, ...]
    quiet: tuple[Scenario, ...] = field(default=())


def static(name: str) -> str:
    """The description of an alert whose text has no template in it."""
    (description,) = {a.description for a in pa.ALERTS if a.name == name}
    assert "{{" not in description
    return description


def alert(name: str, severity: str) -> pa.Alert:
    return next(a for a in pa.ALERTS if a.name == name and a.severity == severity)


def promtool_test(case: Case, scenario: Scenario, rules: Path) -> dict[str, Any]:
    exp_alerts = [
        {
            "exp_labels": {**e.labels, c.SEVERITY_LABEL: e.severity},
            "exp_annotations": {
                c.SUMMARY: alert(case.alert, e.severity).summary,
                c.DESCRIPTION: e.description,
                c.RUNBOOK_URL: f"{BASE_URL}/{case.alert}.md",
            },
        }
        for e in scenario.expected
    ]
    checks: list[dict[str, Any]] = [
        {"eval_time": t, "alertname": case.alert, "exp_alerts": []} for t in scenario.quiet_at
    ]
    checks.append({"eval_time": scenario.eval_time, "alertname": case.alert, "exp_alerts": exp_alerts})
    return {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": f"{case.alert}/{scenario.id}",
                "interval": scenario.interval,
                "input_series": [{"series": s, "values": v} for s, v in scenario.series.items()],
                "alert_rule_test": checks,
            }
        ],
    }
