"""Settings of the metrics pipeline: the Prometheus agent and the Amazon Managed Prometheus workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from config.workloads import Resources

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_ALIAS = re.compile(r"^[\w.\-]{1,100}$")


# From `make scale` (docs/sizing.md): one agent's RSS was 128 MiB at 10 nodes (11,400 series; the
# environments have at most 9) and 277 MiB at 50 nodes (53,000). Request: 10 nodes' RSS + 25 %. Limit:
# twice 50 nodes' RSS (the Go heap grows to twice the live set between collections; WAL replay after a
# restart), so one shard serves up to ~50 nodes before it needs more memory or a second shard. CPU: under
# 0.07 core at the 30 s interval up to 200 nodes; 100m leaves room to catch up after an AMP outage.
AGENT_RESOURCES = Resources(cpu_request="100m", memory_request="160Mi", memory_limit="576Mi")


class Collector(StrEnum):
    """What scrapes the cluster and sends to AMP (docs/collector.md compares the two)."""

    AGENT = "agent"  # our Prometheus agents in the cluster (StatefulSets, WAL, HA pairs, shards)
    MANAGED = "managed"  # AMP's managed collector (`AWS::APS::Scraper`): no pods of ours


# The managed collector refuses a scrape interval under 30 s (AMP user guide, AMP-collector-how-to.html,
# "Scraper limitations").
MANAGED_MIN_SCRAPE_INTERVAL_SECONDS = 30


@dataclass(frozen=True, kw_only=True)
class MonitoringConfig:
    # Who scrapes: our Prometheus agents, or AMP's managed collector (no agent pods; docs/collector.md).
    collector: Collector = Collector.AGENT
    scrape_interval_seconds: int = 30  # every job's, 10-300 (at least 30 with the managed collector)
    # Metrics shipped besides the ones the platform's rules and dashboards use.
    extra_metrics: tuple[str, ...] = ()
    # Each agent's requests and memory limit (docs/sizing.md derives them).
    agent_resources: Resources = AGENT_RESOURCES
    agent_wal_volume_gib: int = 10  # each agent's write-ahead-log volume claim, 1-1000 GiB
    workspace_alias: str | None = None  # default: "<environment>-eks-observability"
    metrics_retention_days: int = 150  # AMP's default; 1-1095
    customer_managed_key: bool = False  # encrypt the workspace with our own KMS key
    # Agents per shard, each in another zone where the cluster has several: scrapes go on through a
    # restart, a node drain or a zone outage. AMP keeps one replica's samples and bills only those
    # (docs: AMP-ingest-dedupe). 1 is the old single agent (no disruption budget: it would block drains).
    agent_replicas: int = 2
    # Groups of agents splitting the targets by hashmod over `__address__`: more only when one agent's
    # memory or CPU no longer fits (the sizing benchmark says when); each shard is `agent_replicas` agents.
    shards: int = 1

    def problems(self) -> list[str]:
        problems = []
        managed = self.collector == Collector.MANAGED
        if self.collector not in tuple(Collector):
            problems.append(
                f"monitoring.collector: must be one of {[one.value for one in Collector]} "
                f"(got {self.collector!r})"
            )
        if not 10 <= self.scrape_interval_seconds <= 300:
            problems.append(
                f"monitoring.scrape_interval_seconds: must be 10-300 (got {self.scrape_interval_seconds!r})"
            )
        elif managed and self.scrape_interval_seconds < MANAGED_MIN_SCRAPE_INTERVAL_SECONDS:
            problems.append(
                f"monitoring.scrape_interval_seconds: must be at least {MANAGED_MIN_SCRAPE_INTERVAL_SECONDS} "
                f"when collector is 'managed' (the managed collector's minimum; got "
                f"{self.scrape_interval_seconds!r})"
            )
        bad = [name for name in self.extra_metrics if not _METRIC_NAME.match(name)]
        if bad:
            problems.append(f"monitoring.extra_metrics: must be Prometheus metric names (got {bad!r})")
        problems.extend(self.agent_resources.problems("monitoring.agent_resources"))
        if not 1 <= self.agent_wal_volume_gib <= 1000:
            problems.append(
                f"monitoring.agent_wal_volume_gib: must be 1-1000 (got {self.agent_wal_volume_gib!r})"
            )
        if self.workspace_alias is not None and not _ALIAS.match(self.workspace_alias):
            problems.append(
                "monitoring.workspace_alias: must be 1-100 letters, digits, '_', '.', '-' "
                f"(got {self.workspace_alias!r})"
            )
        if not 1 <= self.metrics_retention_days <= 1095:
            problems.append(
                f"monitoring.metrics_retention_days: must be 1-1095 (got {self.metrics_retention_days!r})"
            )
        if not 1 <= self.agent_replicas <= 3:
            problems.append(f"monitoring.agent_replicas: must be 1-3 (got {self.agent_replicas!r})")
        if not 1 <= self.shards <= 16:
            problems.append(f"monitoring.shards: must be 1-16 (got {self.shards!r})")
        elif managed and self.shards != 1:
            problems.append(
                f"monitoring.shards: must be 1 when collector is 'managed' (the scraper scales itself; "
                f"got {self.shards!r})"
            )
        if managed and self.customer_managed_key:
            # AMP: a scraper writing to a workspace encrypted with a customer managed key needs a
            # RoleConfiguration (source and target roles) that this platform does not create.
            problems.append(
                "monitoring.customer_managed_key: must be false when collector is 'managed' (a scraper "
                "writing to a CMK workspace needs a role configuration this platform does not set)"
            )
        return problems
