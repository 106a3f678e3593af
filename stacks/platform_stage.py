"""One deployable environment of the platform: used by `app.py` and, later, by the pipeline."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from config.platform import PlatformConfig
from observability.dashboards import all_dashboards
from stacks.cluster_stack import ClusterStack
from stacks.grafana_stack import GrafanaStack
from stacks.log_retention import retention_days
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.workloads_stack import WorkloadsStack


class PlatformStage(Stage):
    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, env=Environment(account=config.account, region=config.region))
        self.network = NetworkStack(self, "Network", config=config, description="VPC and flow logs")
        self.cluster = ClusterStack(
            self,
            "Cluster",
            config=config,
            network=self.network.network,
            description=f"EKS {config.kubernetes_version} cluster, capacity and add-ons",
        )
        self.workloads = WorkloadsStack(
            self,
            "Workloads",
            config=config,
            network=self.network.network,
            cluster_stack=self.cluster,
            description="Orders API and Postgres: charts, credentials, identity and backups",
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            config=config,
            cluster_stack=self.cluster,
            description="Metrics pipeline: AMP workspace, agent identity, Prometheus agent and exporters",
        )
        self.grafana = GrafanaStack(
            self,
            "Grafana",
            grafana=config.grafana,
            prometheus_workspace=self.monitoring.prometheus.workspace,
            alert_topics=[self.monitoring.alerts.page_topic, self.monitoring.alerts.ticket_topic],
            dashboards=all_dashboards(config.grafana.grafana_version),
            log_retention=retention_days(config.log_retention_days),
            description="Managed Grafana: workspace, data sources and dashboards provisioned at deploy",
        )
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)
