"""The metrics pipeline: AMP workspace, the exporters, and what scrapes them: our agents (with their
identity) or AMP's managed collector (`monitoring.collector`, docs/collector.md)."""

from __future__ import annotations

from typing import Any

import cdk8s
from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from config.monitoring import Collector
from config.platform import PlatformConfig
from k8s.images import image_reference
from k8s.monitoring.kube_state_metrics_chart import KubeStateMetricsChart
from k8s.monitoring.monitoring_namespace_chart import MonitoringNamespaceChart
from k8s.monitoring.monitoring_network_policies_chart import MonitoringNetworkPoliciesChart
from k8s.monitoring.node_exporter_chart import NodeExporterChart
from k8s.monitoring.prometheus_agent_chart import PrometheusAgentChart, ShardConfig
from observability import alertmanager, names
from observability.render import Artifacts, managed_config, scrape_config
from stacks import verification_outputs
from stacks.cluster_stack import ClusterStack
from stacks.constructs.alert_notifications import AlertNotifications
from stacks.constructs.managed_collector import ManagedCollector
from stacks.constructs.prometheus_rules import PrometheusRules
from stacks.constructs.prometheus_workspace import PrometheusWorkspace
from stacks.constructs.workload_identity import WorkloadIdentity
from stacks.kubernetes import apply_chart, content_checksum
from stacks.log_retention import retention_days


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        artifacts: Artifacts,
        cluster_stack: ClusterStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        monitoring = config.monitoring
        cluster = cluster_stack.platform_cluster.cluster
        # Alerts reach people through SNS: the topics exist before the workspace's Alertmanager names them.
        # The dead man's switch pages when the Watchdog heartbeat has been silent for two of its periods.
        self.alerts = AlertNotifications(
            self,
            "Alerts",
            alerting=config.alerting,
            heartbeat_silence=Duration.minutes(2 * alertmanager.WATCHDOG_REPEAT_MINUTES),
            teams=artifacts.teams,
        )
        alertmanager_definition = alertmanager.definition(
            alerting=config.alerting, region=config.region, topics=self.alerts.topics
        )
        self.prometheus = PrometheusWorkspace(
            self,
            "Prometheus",
            alias=monitoring.workspace_alias or f"{config.name}-eks-observability",
            retention_days=monitoring.metrics_retention_days,
            log_retention=retention_days(config.log_retention_days),
            customer_managed_key=monitoring.customer_managed_key,
            alert_manager_definition=alertmanager.render(alertmanager_definition),
        )
        self.alerts.allow_publish_from(self.prometheus.workspace.attr_arn)
        # The SLO recording rules and alerts and the platform alerts, one rule groups namespace per file (each
        # in its own nested stack: the parent's template stays small at any number of services).
        self.rules = PrometheusRules(
            self,
            "Rules",
            workspace=self.prometheus.workspace,
            files=artifacts.rule_files,
        )
        # One configuration per shard (the same but for its hashmod `keep`); shard 0's is `agent_config`.
        # The managed collector's is derived from shard 0's (observability/render/managed_config.py).
        self.agent_configs = [
            scrape_config.agent_config(
                cluster_name=cluster.cluster_name,
                environment=config.name,
                region=config.region,
                remote_write_url=self.prometheus.remote_write_url,
                scrape_interval_seconds=monitoring.scrape_interval_seconds,
                extra_metrics=monitoring.extra_metrics,
                jobs=artifacts.scrape_jobs,
                shard=shard,
                shards=monitoring.shards,
            )
            for shard in range(monitoring.shards)
        ]
        self.agent_config = self.agent_configs[0]
        managed = monitoring.collector == Collector.MANAGED
        scraper_cidrs = cluster_stack.node_subnet_cidrs if managed else []
        charts = cdk8s.App()
        self.namespace = apply_chart(
            self,
            "MonitoringNamespace",
            cluster=cluster,
            chart=MonitoringNamespaceChart(charts, "monitoring-namespace"),
        )
        digests = config.image_digests
        self.network_policies = apply_chart(
            self,
            "MonitoringNetworkPolicies",
            cluster=cluster,
            chart=MonitoringNetworkPoliciesChart(
                charts,
                "monitoring-network-policies",
                vpc_cidr=config.vpc_cidr,
                capacity_mode=config.capacity_mode,
                services=artifacts.services,
                scraper_cidrs=scraper_cidrs,
            ),
        )
        self.node_exporter = apply_chart(
            self,
            "NodeExporter",
            cluster=cluster,
            chart=NodeExporterChart(charts, "node-exporter", image=image_reference("node-exporter", digests)),
        )
        self.kube_state_metrics = apply_chart(
            self,
            "KubeStateMetrics",
            cluster=cluster,
            chart=KubeStateMetricsChart(
                charts, "kube-state-metrics", image=image_reference("kube-state-metrics", digests)
            ),
        )
        for manifest in (self.network_policies, self.node_exporter, self.kube_state_metrics):
            manifest.node.add_dependency(self.namespace)
        self.collector: ManagedCollector | None = None
        if managed:
            self.collector = ManagedCollector(
                self,
                "Collector",
                cluster_arn=cluster.cluster_arn,
                security_group_id=cluster.cluster_security_group_id,
                subnet_ids=cluster_stack.node_subnets.subnet_ids,
                workspace=self.prometheus.workspace,
                configuration_yaml=scrape_config.render(managed_config.managed_config(self.agent_config)),
                log_group=self.prometheus.log_group,
            )
        else:
            self._add_agents(config=config, artifacts=artifacts, cluster_stack=cluster_stack, charts=charts)

        workspace = self.prometheus.workspace
        # Kept as attributes: the stage hands them to the post-deploy verification.
        self.workspace_id_output = CfnOutput(
            self,
            "PrometheusWorkspaceId",
            value=workspace.attr_workspace_id,
            description="Amazon Managed Prometheus workspace id (e.g. for `aws amp` commands)",
        )
        CfnOutput(
            self,
            "PrometheusWorkspaceArn",
            value=workspace.attr_arn,
            description="Amazon Managed Prometheus workspace ARN",
        )
        self.query_url_output = CfnOutput(
            self,
            "PrometheusQueryUrl",
            value=self.prometheus.query_url,
            description="PromQL instant-query endpoint (SigV4, service `aps`), e.g. with awscurl",
        )
        CfnOutput(
            self,
            "PrometheusRemoteWriteUrl",
            value=self.prometheus.remote_write_url,
            description="Remote-write endpoint the agent sends to",
        )
        if self.collector is not None:
            scraper = self.collector.scraper
            CfnOutput(
                self,
                "ScraperId",
                value=scraper.attr_scraper_id,
                description="AMP managed collector id (its status: `aws amp describe-scraper --scraper-id`)",
            )
            CfnOutput(self, "ScraperArn", value=scraper.attr_arn, description="AMP managed collector ARN")
            CfnOutput(
                self,
                "ScraperRoleArn",
                value=scraper.attr_role_arn,
                description="The scraper's service-linked role (the principal of its EKS access entry)",
            )
        self.topic_outputs: dict[str, CfnOutput] = {
            output_id: CfnOutput(self, output_id, value=topic.topic_arn, description=description)
            for output_id, topic, description in (
                (
                    verification_outputs.PAGE_TOPIC_ARN.output_id,
                    self.alerts.page_topic,
                    "SNS topic of page alerts (subscribe on-call)",
                ),
                (
                    verification_outputs.TICKET_TOPIC_ARN.output_id,
                    self.alerts.ticket_topic,
                    "SNS topic of ticket alerts",
                ),
                (
                    verification_outputs.WATCHDOG_TOPIC_ARN.output_id,
                    self.alerts.watchdog_topic,
                    f"Watchdog heartbeat every {alertmanager.WATCHDOG_REPEAT_MINUTES} min: a CloudWatch "
                    "alarm pages when it stops; subscribe an external dead man's switch too",
                ),
            )
        }
        self.log_group_output = CfnOutput(
            self,
            verification_outputs.PROMETHEUS_LOG_GROUP.output_id,
            value=self.prometheus.log_group.log_group_name,
            description="Log group of the AMP workspace (rule evaluation and Alertmanager errors)",
        )

    def _add_agents(
        self, *, config: PlatformConfig, artifacts: Artifacts, cluster_stack: ClusterStack, charts: cdk8s.App
    ) -> None:
        """The Prometheus agents (`agent_replicas` per shard), their identity and their configuration."""
        monitoring = config.monitoring
        cluster = cluster_stack.platform_cluster.cluster
        self.agent_identity = WorkloadIdentity(
            self,
            "AgentIdentity",
            cluster=cluster,
            namespace=names.MONITORING_NAMESPACE,
            service_account=names.PROMETHEUS_AGENT,
        )
        self.prometheus.grant_remote_write(self.agent_identity.role)
        agent_shards = []
        for agent_config in self.agent_configs:
            rendered = scrape_config.render(agent_config)
            agent_shards.append(ShardConfig(config_yaml=rendered, checksum=content_checksum(self, rendered)))
        self.agent_config_yaml = agent_shards[0].config_yaml
        self.agent_config_checksum = agent_shards[0].checksum
        self.agent = apply_chart(
            self,
            "PrometheusAgent",
            cluster=cluster,
            chart=PrometheusAgentChart(
                charts,
                "prometheus-agent",
                shards=agent_shards,
                replicas=monitoring.agent_replicas,
                resources=monitoring.agent_resources,
                wal_volume_gib=monitoring.agent_wal_volume_gib,
                image=image_reference("prometheus", config.image_digests),
            ),
        )
        self.agent.node.add_dependency(self.namespace)
        # The agent's first remote write must find its identity in place.
        self.agent.node.add_dependency(self.agent_identity.association)
        # Its WAL claim names the disposable StorageClass, which the Cluster stack applies.
        self.agent.node.add_dependency(cluster_stack.storage)
