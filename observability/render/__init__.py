"""The render layer: the model -> every artifact the platform deploys or runs, from one entry point.

`render()` returns the artifacts; the stacks, the harness, the sandbox and `make render` read them, and
nothing renders twice. Each generator is a small module of its own (slo_rules, rules, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.monitoring import Collector
from observability.dashboards import Folder, folders
from observability.jobs import ScrapeJob, all_jobs
from observability.model.load import Services
from observability.model.service import Service
from observability.render.rules import rule_files


@dataclass(frozen=True)
class Artifacts:
    # AMP rule groups namespace -> Prometheus rules document (`{"groups": [...]}`).
    rule_files: Mapping[str, Mapping[str, Any]]
    # The teams alerts are routed to (each gets its own topics), services/teams.yaml's order.
    teams: tuple[str, ...]
    # Grafana folders and their dashboards: the platform's, then one per service (observability/dashboards).
    dashboards: tuple[Folder, ...]
    # The agent's scrape jobs: the platform's, then one per service (observability.jobs).
    scrape_jobs: tuple[ScrapeJob, ...]
    # The services themselves: the charts admit the agent to each one's pods on its metrics port.
    services: tuple[Service, ...]


def render(
    *,
    services: Services,
    runbook_base_url: str,
    grafana_version: str = "10.4",
    collector: Collector = Collector.AGENT,
) -> Artifacts:
    """`collector`: the platform alerts and dashboards about the agent only where agents run."""
    managed = collector == Collector.MANAGED
    return Artifacts(
        rule_files=rule_files(services, runbook_base_url=runbook_base_url, managed_collector=managed),
        teams=tuple(team.name for team in services.teams),
        dashboards=folders(services, grafana_version, managed_collector=managed),
        scrape_jobs=all_jobs(services),
        services=services.services,
    )
