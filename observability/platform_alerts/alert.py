"""One platform alert (a row of the table) and the selectors its expressions share."""

from __future__ import annotations

from dataclasses import dataclass

from observability import conventions as c
from observability import jobs


@dataclass(frozen=True, kw_only=True)
class Alert:
    name: str  # PascalCase; its runbook is docs/runbooks/<name>.md
    severity: str  # conventions.PAGE | TICKET (Watchdog: NONE)
    expr: str
    for_: str  # "" = fire on the first evaluation
    summary: str
    description: str  # Go template: {{ $labels.x }}, {{ $value }}


def by(*labels: str) -> str:
    """An aggregation clause that keeps the external labels too."""
    return f"by ({', '.join((*c.EXTERNAL_LABELS, *labels))})"


def on(*labels: str) -> str:
    """A vector-matching clause on the external labels and `labels`."""
    return f"on ({', '.join((*c.EXTERNAL_LABELS, *labels))})"


def job(name: str) -> str:
    return f'job="{name}"'


KSM = job(jobs.KUBE_STATE_METRICS)
NODE_EXPORTER = job(jobs.NODE_EXPORTER)
NODE_FS = f'{NODE_EXPORTER}, fstype!=""'
KUBELET = job(jobs.KUBELET)
CADVISOR = job(jobs.CADVISOR)
AGENT = job(jobs.PROMETHEUS_AGENT)
APISERVER = job(jobs.APISERVER)
ALL_JOBS = "|".join(jobs.JOBS)
POD = "{{ $labels.namespace }}/{{ $labels.pod }}"
