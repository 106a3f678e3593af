"""Every rules file the platform loads into Amazon Managed Prometheus: one rule groups namespace each."""

from __future__ import annotations

from typing import Any

from observability import platform_alerts
from observability.model.load import Services
from observability.render import slo_rules

SLO_NAMESPACE = "slos"
PLATFORM_NAMESPACE = "platform-alerts"


def rule_files(services: Services, *, runbook_base_url: str) -> dict[str, dict[str, Any]]:
    """Namespace name -> Prometheus rules document (`{"groups": [...]}`)."""
    slo_groups = [
        group
        for service in services.services
        for group in slo_rules.groups(
            service, services.windows_of(service), runbook_base_url=runbook_base_url
        )
    ]
    return {
        SLO_NAMESPACE: {"groups": slo_groups},
        PLATFORM_NAMESPACE: platform_alerts.rules_file(runbook_base_url=runbook_base_url),
    }
