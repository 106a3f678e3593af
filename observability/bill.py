"""One environment's monthly bill: what its config and synthesized templates create (counted by
`observability.billed_resources`), times the unit prices of its region (`observability.model.prices`).

Usage the platform cannot know (traffic through NAT and endpoints, load balancer capacity units, Grafana
users, log volume, Lambda invocations, AMP queries) comes from `Usage`, a labelled assumption block.
A price no page stated leaves its line unpriced: shown as such and left out of the total, never $0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config import PlatformConfig
from observability.billed_resources import BilledResources
from observability.model.prices import Price, PriceBook

DAYS_PER_MONTH = 30  # log and metric retention in months of stored data
BYTES_PER_GB = 2**30  # AMP's pricing page: "1GB is 2^30 bytes"


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Assumptions, not measurements: change them to your traffic (every one is printed with the bill)."""

    nat_gb_per_month: float = 100.0  # image pulls, AWS APIs without an endpoint, egress
    endpoint_gb_per_month: float = 50.0  # through interface endpoints, where the VPC has them
    alb_average_lcus: float = 1.0  # per load balancer, averaged over the month
    grafana_editors: int = 2  # per workspace; AWS bills at least one editor per workspace
    grafana_viewers: int = 5  # per workspace
    log_gb_per_group_month: float = 0.5  # ingested into each log group
    lambda_invocations_per_function_month: int = 1_000
    lambda_seconds_per_invocation: float = 1.0
    amp_bytes_per_sample: float = 2.0  # AMP's pricing page: samples "typically 1 or 2 bytes", plus metadata
    amp_query_billion_samples_month: float = 10.0  # dashboards, rules and alerts reading AMP


@dataclass(frozen=True, kw_only=True)
class Line:
    item: str
    quantity: float  # in the price's unit
    price: Price

    @property
    def monthly_usd(self) -> float | None:
        return None if self.price.usd is None else self.quantity * self.price.usd


@dataclass(frozen=True, kw_only=True)
class Bill:
    environment: str
    region: str
    nodes: int
    samples_per_month: float
    lines: tuple[Line, ...]

    @property
    def total_usd(self) -> float:
        """The priced lines only: `unpriced` lists what is missing from it."""
        return sum(usd for line in self.lines if (usd := line.monthly_usd) is not None)

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(line.item for line in self.lines if line.monthly_usd is None)


def bill(
    *,
    config: PlatformConfig,
    prices: PriceBook,
    resources: BilledResources,
    samples_per_month: float,
    nodes: int | None = None,
    usage: Usage = Usage(),
) -> Bill:
    """The month of `config` in `prices`' region, with `nodes` nodes (default: node_min_size, where the
    cluster autoscaler settles when idle) and AMP ingesting `samples_per_month` (from `make cost`)."""
    hours = prices.hours_per_month
    node_count = config.node_min_size if nodes is None else nodes
    node_type = config.node_instance_types[0]
    price: Callable[[str], Price] = prices.prices.__getitem__
    r = resources
    stored_log_gb = sum(
        usage.log_gb_per_group_month * (group.retention_days or 0) / DAYS_PER_MONTH for group in r.log_groups
    )
    retained_months = config.monitoring.metrics_retention_days / DAYS_PER_MONTH
    amp_stored_gb = samples_per_month * retained_months * usage.amp_bytes_per_sample / BYTES_PER_GB
    gb_seconds = sum(
        mb / 1024 * usage.lambda_invocations_per_function_month * usage.lambda_seconds_per_invocation
        for mb in r.function_memory_mb
    )
    invocations = len(r.function_memory_mb) * usage.lambda_invocations_per_function_month
    rows: list[tuple[str, float, str | Price]] = [
        ("EKS control plane", r.clusters * hours, "eks_cluster_hour"),
        (f"Nodes ({node_count} x {node_type})", node_count * hours, prices.instance(node_type)),
        (f"EBS gp3 volumes ({r.volume_gib} GiB claimed)", r.volume_gib, "ebs_gp3_gb_month"),
        (f"NAT gateways ({r.nat_gateways})", r.nat_gateways * hours, "nat_gateway_hour"),
        ("NAT data processed", usage.nat_gb_per_month if r.nat_gateways else 0, "nat_gateway_gb"),
        (f"Interface endpoints ({r.interface_endpoints}, {r.interface_endpoint_zones} zone-attachments)",
         r.interface_endpoint_zones * hours, "interface_endpoint_az_hour"),
        ("Interface endpoint data", usage.endpoint_gb_per_month if r.interface_endpoints else 0,
         "interface_endpoint_gb"),
        (f"Load balancers ({r.load_balancers} ALB)", r.load_balancers * hours, "alb_hour"),
        ("Load balancer capacity units", r.load_balancers * usage.alb_average_lcus * hours, "alb_lcu_hour"),
        ("AMP ingestion", samples_per_month / 1e7, "amp_ingestion"),
        (f"AMP storage ({config.monitoring.metrics_retention_days} days)", amp_stored_gb,
         "amp_storage_gb_month"),
        ("AMP query samples", r.prometheus_workspaces * usage.amp_query_billion_samples_month,
         "amp_query_billion_samples"),
        ("Grafana editors", r.grafana_workspaces * usage.grafana_editors, "grafana_editor_month"),
        ("Grafana viewers", r.grafana_workspaces * usage.grafana_viewers, "grafana_viewer_month"),
        (f"KMS keys ({r.kms_keys})", r.kms_keys, "kms_key_month"),
        (f"Secrets ({r.secrets})", r.secrets, "secret_month"),
        (f"CloudWatch Logs ingested ({len(r.log_groups)} groups)",
         len(r.log_groups) * usage.log_gb_per_group_month, "logs_ingested_gb"),
        ("CloudWatch Logs stored (each group's retention)", stored_log_gb, "logs_stored_gb_month"),
        (f"CloudWatch alarms ({r.alarms})", r.alarms, "cloudwatch_alarm_month"),
        (f"Lambda requests ({len(r.function_memory_mb)} functions)", invocations / 1e6,
         "lambda_million_requests"),
        ("Lambda duration", gb_seconds, "lambda_gb_second"),
    ]  # fmt: skip
    lines = tuple(
        Line(item=item, quantity=quantity, price=key if isinstance(key, Price) else price(key))
        for item, quantity, key in rows
    )
    return Bill(
        environment=config.name,
        region=prices.region,
        nodes=node_count,
        samples_per_month=samples_per_month,
        lines=lines,
    )
