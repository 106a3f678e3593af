"""An Amazon Managed Service for Prometheus workspace with logging, retention and optional own KMS key."""

from __future__ import annotations

from aws_cdk import Fn, Names, RemovalPolicy
from aws_cdk import aws_aps as aps
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

# The prefix for logs AWS services deliver (vended logs): CloudWatch Logs resource policies are limited to
# 5120 characters, and log groups under this prefix are enabled without naming each one there
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html, which points to
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html).
VENDED_LOGS_PREFIX = "/aws/vendedlogs/"
LOG_GROUP_PREFIX = f"{VENDED_LOGS_PREFIX}prometheus/"
# CloudWatch Logs allows 512 characters in a log group name.
_LOG_GROUP_NAME_MAX = 512


class PrometheusWorkspace(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        retention_days: int,
        log_retention: logs.RetentionDays,
        customer_managed_key: bool,
        alert_manager_definition: str | None = None,  # AMP's YAML (observability/alertmanager.py)
    ) -> None:
        super().__init__(scope, id_)
        self.key = (
            kms.Key(self, "Key", description="Encrypts the Prometheus workspace", enable_key_rotation=True)
            if customer_managed_key
            else None
        )
        # Rule evaluation and alerting errors land here (the workspace logs nothing else). A prefix needs a
        # name: derived from the stack and construct path, unique in the account and region, stable across
        # deploys (DESTROY: a rename would replace the group, never collide with a kept one).
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=LOG_GROUP_PREFIX
            + Names.unique_resource_name(
                self, max_length=_LOG_GROUP_NAME_MAX - len(LOG_GROUP_PREFIX), separator="-"
            ),
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.workspace = aps.CfnWorkspace(
            self,
            "Workspace",
            alias=alias,
            alert_manager_definition=alert_manager_definition,
            kms_key_arn=self.key.key_arn if self.key else None,
            logging_configuration=aps.CfnWorkspace.LoggingConfigurationProperty(
                log_group_arn=self.log_group.log_group_arn
            ),
            workspace_configuration=aps.CfnWorkspace.WorkspaceConfigurationProperty(
                retention_period_in_days=retention_days
            ),
        )
        # Metrics history is data: a stack deletion must not take it.
        self.workspace.apply_removal_policy(RemovalPolicy.RETAIN)
        # The endpoint ends in `/`: `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`.
        self.remote_write_url = Fn.join("", [self.workspace.attr_prometheus_endpoint, "api/v1/remote_write"])
        self.query_url = Fn.join("", [self.workspace.attr_prometheus_endpoint, "api/v1/query"])

    def grant_remote_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Write samples, and nothing else, into this workspace only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["aps:RemoteWrite"], resource_arns=[self.workspace.attr_arn]
        )
