"""The IAM role the post-deploy verification (scripts/verify_deployment.py) assumes: read-only checks on
this stage's AMP workspace and Grafana workspace, its own short-lived Grafana token, and the cluster probe.

Trusted by one account's root (the toolchain account of the pipeline, or the stage's own account for
`make verify` from a laptop): that account's IAM policies decide who there may assume it. The pipeline's
verification step may assume only roles carrying the tag in stacks/naming.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.nag import acknowledge
from stacks.naming import VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE

# Service Authorization Reference for AMP: QueryMetrics and DescribeAlertManagerDefinition take the
# `workspace` resource, DescribeRuleGroupsNamespace the `rulegroupsnamespace` resource
# (arn:...:rulegroupsnamespace/<workspace id>/<name>, the namespace's Arn attribute).
AMP_WORKSPACE_ACTIONS = ("aps:QueryMetrics", "aps:DescribeAlertManagerDefinition")
AMP_NAMESPACE_ACTIONS = ("aps:DescribeRuleGroupsNamespace",)
# The Grafana `workspace` resource: the workspace's status, the verifier's own service account (found or
# created) and its token, created for minutes and deleted by the script. No DeleteWorkspaceServiceAccount:
# the account is kept and reused, only tokens come and go.
# Alert delivery: SNS's metrics through GetMetricData, which takes no resource type (Service Authorization
# Reference for CloudWatch: "*" only), and the AMP workspace's log group through FilterLogEvents (resource
# type `log-group`).
METRIC_ACTIONS = ("cloudwatch:GetMetricData",)
LOG_ACTIONS = ("logs:FilterLogEvents",)
GRAFANA_ACTIONS = (
    "grafana:DescribeWorkspace",
    "grafana:ListWorkspaceServiceAccounts",
    "grafana:CreateWorkspaceServiceAccount",
    "grafana:CreateWorkspaceServiceAccountToken",
    "grafana:DeleteWorkspaceServiceAccountToken",
)


class DeploymentVerifier(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        trusted_account: str,
        prometheus_workspace_arn: str,
        rule_groups_namespace_arns: Sequence[str],
        grafana_workspace_arn: str,
        probe: lambda_.IFunction,
        prometheus_log_group_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.role = iam.Role(
            self,
            "Role",
            description="Post-deploy verification: reads AMP and Grafana health, invokes the cluster probe",
            assumed_by=iam.AccountPrincipal(trusted_account),
        )
        Tags.of(self.role).add(VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryAndReadAlertManager",
                actions=list(AMP_WORKSPACE_ACTIONS),
                resources=[prometheus_workspace_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadRuleGroupsNamespaces",
                actions=list(AMP_NAMESPACE_ACTIONS),
                resources=list(rule_groups_namespace_arns),
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ShortLivedGrafanaToken", actions=list(GRAFANA_ACTIONS), resources=[grafana_workspace_arn]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeClusterProbe", actions=["lambda:InvokeFunction"], resources=[probe.function_arn]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="ReadSnsMetrics", actions=list(METRIC_ACTIONS), resources=["*"])
        )
        acknowledge(
            self.role,
            "IAM5[Resource::*]",
            "cloudwatch:GetMetricData takes no resource type (Service Authorization Reference): the verifier "
            "reads the alert topics' SNS metrics, read-only",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadAlertmanagerLog", actions=list(LOG_ACTIONS), resources=[prometheus_log_group_arn]
            )
        )
