"""An Amazon Managed Grafana workspace whose own role reads our AMP workspace, CloudWatch and nothing else.

CloudFormation creates the workspace only: data sources, folders and dashboards come from the provisioner
(grafana_provisioning.py). `DataSources` below grants nothing with CUSTOMER_MANAGED permissions; it lists
what the console offers, the role decides what works.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_grafana as grafana
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.grafana import GrafanaAuthentication, GrafanaConfig
from stacks.nag import acknowledge

GRAFANA = "grafana.amazonaws.com"
# The Service Authorization Reference lists each of these with the AMP `workspace` resource type (required),
# so they are scoped to our workspace ARN. Query API, then the read side of the ruler and Alertmanager
# (AMP-alertmanager-IAM-permissions.html); silences stay read-only, AMP's Alertmanager is managed in code.
AMP_QUERY_ACTIONS = (
    "aps:QueryMetrics",
    "aps:GetSeries",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
)
AMP_ALERT_READ_ACTIONS = (
    "aps:ListRules",
    "aps:ListAlerts",
    "aps:ListAlertManagerAlerts",
    "aps:ListAlertManagerAlertGroups",
    "aps:ListAlertManagerSilences",
    "aps:GetAlertManagerSilence",
    "aps:GetAlertManagerStatus",
    "aps:ListAlertManagerReceivers",
)
# The CloudWatch metric read actions of AWS's AmazonGrafanaCloudWatchAccess policy, without its EC2, tag
# and OAM discovery extras. These actions have no resource-level permissions there ("Resource": "*").
CLOUDWATCH_READ_ACTIONS = (
    "cloudwatch:DescribeAlarmsForMetric",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetInsightRuleReport",
)
# No log contents: no dashboard reads logs (observability/dashboards has no CloudWatch Logs panel), so
# StartQuery/GetQueryResults/GetLogEvents/GetLogGroupFields are not granted and no Grafana user can read any
# log group through this workspace; the platform's log groups share no name prefix to scope them to anyway.
# DescribeLogGroups (names, not contents) stays: the CloudWatch data source's health check calls it
# (grafana/grafana pkg/tsdb/cloudwatch CheckHealth: ListMetrics, then DescribeLogGroups with limit 1).
LOGS_READ_ACTIONS = ("logs:DescribeLogGroups",)


def workspace_arn_pattern(stack: Stack) -> str:
    """Any AMG workspace of `stack`'s account and region (Service Authorization Reference format:
    arn:${Partition}:grafana:${Region}:${Account}:/workspaces/${ResourceId})."""
    return stack.format_arn(
        service="grafana", resource="/workspaces", resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME
    )


class ManagedGrafana(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: GrafanaConfig,
        prometheus_workspace_arn: str,
        alert_topics: Sequence[sns.ITopic],
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description="Managed Grafana workspace: reads AMP and CloudWatch, publishes to alert topics",
            # Confused-deputy guard: only Grafana acting for a workspace of this account and region. The
            # workspace's own id cannot be named here (the workspace needs this role's ARN first), so any
            # workspace id of this account and region: the AMG trust policy pattern (/workspaces/*).
            assumed_by=iam.ServicePrincipal(
                GRAFANA,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": workspace_arn_pattern(stack)},
                },
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryPrometheusAndReadItsAlerts",
                actions=[*AMP_QUERY_ACTIONS, *AMP_ALERT_READ_ACTIONS],
                resources=[prometheus_workspace_arn],
            )
        )
        in_our_region = {"StringEquals": {"aws:RequestedRegion": stack.region}}
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadCloudWatchMetrics",
                actions=[*CLOUDWATCH_READ_ACTIONS, *LOGS_READ_ACTIONS],
                resources=["*"],
                conditions=in_our_region,
            )
        )
        for topic in alert_topics:
            topic.grant_publish(self.role)  # also the topic key's GenerateDataKey/Decrypt when encrypted
        acknowledge(
            self.role,
            "IAM5[Resource::*]",
            "CloudWatch metric read actions (AWS's AmazonGrafanaCloudWatchAccess set) and DescribeLogGroups "
            "(names only, for the data source's health check) take no resource ARN here; they are read-only "
            "and limited to this region with aws:RequestedRegion. No log contents are readable.",
        )
        acknowledge(
            self.role,
            "IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to an SSE-KMS topic needs GenerateDataKey* and Decrypt on the topic's key: "
            "aws-cdk-lib's grant_publish adds them on that one key only.",
        )

        saml = config.authentication == GrafanaAuthentication.SAML
        self.workspace = grafana.CfnWorkspace(
            self,
            "Workspace",
            description="EKS observability dashboards (provisioned on every deploy)",
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=[config.authentication.value],
            saml_configuration=grafana.CfnWorkspace.SamlConfigurationProperty(
                idp_metadata=grafana.CfnWorkspace.IdpMetadataProperty(url=config.saml_metadata_url)
            )
            if saml
            else None,
            grafana_version=config.grafana_version,
            permission_type="CUSTOMER_MANAGED",
            role_arn=self.role.role_arn,
            data_sources=["PROMETHEUS", "CLOUDWATCH"],
            notification_destinations=["SNS"],
            plugin_admin_enabled=config.plugin_admin_enabled,
        )
        # Format from the Service Authorization Reference: arn:${Partition}:grafana:${Region}:${Account}:
        # /workspaces/${ResourceId} (note the slash after the account); the resource has no Arn attribute.
        self.workspace_arn = stack.format_arn(
            service="grafana",
            resource="/workspaces",
            resource_name=self.workspace.attr_id,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.url = f"https://{self.workspace.attr_endpoint}"
