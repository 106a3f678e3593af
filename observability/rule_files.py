"""Every rules file the platform loads into Amazon Managed Prometheus: one rule groups namespace each."""

from __future__ import annotations

from typing import Any

from observability import platform_alerts, slo_rules
from observability.slos import SLOS

SLO_NAMESPACE = "slos"
PLATFORM_NAMESPACE = "platform-alerts"


def rule_files(*, runbook_base_url: str) -> dict[str, dict[str, Any]]:
    """Namespace name -> Prometheus rules document (`{"groups": [...]}`)."""
    return {
        SLO_NAMESPACE: slo_rules.rules_file(SLOS, runbook_base_url=runbook_base_url),
        PLATFORM_NAMESPACE: platform_alerts.rules_file(runbook_base_url=runbook_base_url),
    }
