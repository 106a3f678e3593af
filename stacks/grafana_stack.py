"""Managed Grafana: the workspace reading our AMP workspace and CloudWatch, the provisioner that loads its
data sources and dashboards on every deploy, and the read-only health check the verifier invokes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_aps as aps
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.grafana import GrafanaConfig
from observability.dashboards import Folder
from stacks import verification_outputs
from stacks.constructs.grafana_api_function import PROVISIONER_CODE
from stacks.constructs.grafana_health_check import GrafanaHealthCheck
from stacks.constructs.grafana_provisioning import GrafanaProvisioning
from stacks.constructs.managed_grafana import ManagedGrafana


class GrafanaStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        grafana: GrafanaConfig,
        prometheus_workspace: aps.CfnWorkspace,
        alert_topics: Sequence[sns.ITopic],
        dashboards: Sequence[Folder],
        log_retention: logs.RetentionDays,
        provisioner_code: Path = PROVISIONER_CODE,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.grafana = ManagedGrafana(
            self,
            "Grafana",
            config=grafana,
            prometheus_workspace_arn=prometheus_workspace.attr_arn,
            alert_topics=alert_topics,
        )
        workspace = self.grafana.workspace
        self.provisioning = GrafanaProvisioning(
            self,
            "Provisioning",
            grafana_workspace_id=workspace.attr_id,
            grafana_workspace_arn=self.grafana.workspace_arn,
            grafana_endpoint=workspace.attr_endpoint,
            grafana_version=grafana.grafana_version,
            prometheus_workspace=prometheus_workspace,
            dashboards=dashboards,
            log_retention=log_retention,
            code_directory=provisioner_code,
        )
        self.health_check = GrafanaHealthCheck(
            self,
            "HealthCheck",
            grafana_workspace_id=workspace.attr_id,
            grafana_workspace_arn=self.grafana.workspace_arn,
            grafana_endpoint=workspace.attr_endpoint,
            dashboards=self.provisioning.dashboards,
            log_retention=log_retention,
            code_directory=provisioner_code,
        )
        # Kept as attributes: the stage hands them to the post-deploy verification.
        self.health_check_output = CfnOutput(
            self,
            verification_outputs.GRAFANA_HEALTH_CHECK_ARN.output_id,
            value=self.health_check.function.function_arn,
            description="Lambda function answering Grafana's data source and dashboard health (read-only)",
        )
        self.url_output = CfnOutput(
            self,
            "GrafanaWorkspaceUrl",
            value=self.grafana.url,
            description="Amazon Managed Grafana workspace: sign in here (IAM Identity Center or SAML)",
        )
        self.workspace_id_output = CfnOutput(
            self,
            "GrafanaWorkspaceId",
            value=workspace.attr_id,
            description="Amazon Managed Grafana workspace id (e.g. for `aws grafana` commands)",
        )
