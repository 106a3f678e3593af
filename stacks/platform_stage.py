"""One deployable environment of the platform: used by `app.py` and, later, by the pipeline."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stage, Tags
from constructs import Construct

from config.platform import PlatformConfig
from observability.render import Artifacts
from stacks.cluster_stack import ClusterStack
from stacks.grafana_stack import GrafanaStack
from stacks.log_retention import retention_days
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.verification_outputs import (
    GRAFANA_HEALTH_CHECK_ARN,
    PAGE_TOPIC_ARN,
    PROBE_FUNCTION_ARN,
    PROMETHEUS_LOG_GROUP,
    PROMETHEUS_QUERY_URL,
    PROMETHEUS_WORKSPACE_ID,
    ROLE_ARN,
    TICKET_TOPIC_ARN,
    WATCHDOG_TOPIC_ARN,
)
from stacks.verification_stack import VerificationStack
from stacks.workloads_stack import WorkloadsStack


class PlatformStage(Stage):
    """`artifacts`: what app.py rendered from the services and the spec for this environment.

    `pipeline_account`: the toolchain account whose verify-step roles may assume the verification role
    (besides the stage's CDK deploy role and `config.verifier_principal_arns`); None: no pipeline.

    `verification_outputs`: environment variable name -> the output holding its value, for everything
    scripts/verify_deployment.py reads (the pipeline passes them as `env_from_cfn_outputs`)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        artifacts: Artifacts,
        pipeline_account: str | None = None,
    ) -> None:
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
            services=artifacts.services,
            description="Orders API and Postgres: charts, credentials, identity and backups",
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            config=config,
            artifacts=artifacts,
            cluster_stack=self.cluster,
            description="Metrics pipeline: AMP workspace, agent identity, Prometheus agent and exporters",
            # The stack that grows with the teams and services (docs/architecture/scale.md): written without
            # indentation it holds about 13 % more before CloudFormation's 1 MB (`make render` writes the
            # readable artifacts).
            suppress_template_indentation=True,
        )
        self.grafana = GrafanaStack(
            self,
            "Grafana",
            grafana=config.grafana,
            prometheus_workspace=self.monitoring.prometheus.workspace,
            alert_topics=[self.monitoring.alerts.page_topic, self.monitoring.alerts.ticket_topic],
            dashboards=artifacts.dashboards,
            log_retention=retention_days(config.log_retention_days),
            description="Managed Grafana: workspace, data sources and dashboards provisioned at deploy",
        )
        self.verification = VerificationStack(
            self,
            "Verification",
            verifier_principal_arns=config.verifier_principal_arns,
            pipeline_account=pipeline_account,
            network=self.network.network,
            cluster_stack=self.cluster,
            workloads=self.workloads,
            monitoring=self.monitoring,
            grafana=self.grafana,
            log_retention=retention_days(config.log_retention_days),
            description="Post-deploy verification: cluster probe in the VPC and the verifier role",
        )
        self.verification_outputs: dict[str, CfnOutput] = {
            PROMETHEUS_WORKSPACE_ID.env_var: self.monitoring.workspace_id_output,
            PROMETHEUS_QUERY_URL.env_var: self.monitoring.query_url_output,
            GRAFANA_HEALTH_CHECK_ARN.env_var: self.grafana.health_check_output,
            ROLE_ARN.env_var: self.verification.role_arn_output,
            PROBE_FUNCTION_ARN.env_var: self.verification.probe_function_arn_output,
            **{
                output.env_var: self.monitoring.topic_outputs[output.output_id]
                for output in (WATCHDOG_TOPIC_ARN, PAGE_TOPIC_ARN, TICKET_TOPIC_ARN)
            },
            PROMETHEUS_LOG_GROUP.env_var: self.monitoring.log_group_output,
        }
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)
