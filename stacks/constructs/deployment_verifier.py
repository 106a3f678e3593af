"""The IAM role the post-deploy verification (scripts/verify_deployment.py) assumes: read-only checks on
this stage's AMP workspace, and invoking two functions that answer health results: the cluster probe and the
Grafana health check. It holds no Grafana right: no service account, no token.

Trusted by named principals only, never by an account as a whole:
- `trusted_principal_arns`: exact IAM roles or users (the stage's CDK deploy role, whoever may deploy may
  verify, and the environment's `verifier_principal_arns`). A trust policy naming a principal's ARN grants it
  without any policy of its own in this account; each must exist when the role is created.
- `pipeline_account`: the pipeline's verify steps, which CDK Pipelines creates in the toolchain account with
  generated names; they carry the role path in stacks/naming.py (set at creation, never changed), so the trust
  admits only roles on that path (condition on aws:PrincipalArn). The verify step may assume only roles
  carrying the tag in stacks/naming.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.nag import acknowledge
from stacks.naming import VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE, VERIFY_STEP_ROLE_PATH

# Service Authorization Reference for AMP: QueryMetrics and DescribeAlertManagerDefinition take the
# `workspace` resource, DescribeRuleGroupsNamespace the `rulegroupsnamespace` resource
# (arn:...:rulegroupsnamespace/<workspace id>/<name>, the namespace's Arn attribute).
AMP_WORKSPACE_ACTIONS = ("aps:QueryMetrics", "aps:DescribeAlertManagerDefinition")
# Alert delivery: SNS's metrics through GetMetricData, which takes no resource type (Service Authorization
# Reference for CloudWatch: "*" only), and the AMP workspace's log group through FilterLogEvents (resource
# type `log-group`).
METRIC_ACTIONS = ("cloudwatch:GetMetricData",)
LOG_ACTIONS = ("logs:FilterLogEvents",)


def verify_step_roles(account: str) -> str:
    """The ARN pattern of the pipeline's verify-step roles in `account` (their path, any name)."""
    return f"arn:{Aws.PARTITION}:iam::{account}:role{VERIFY_STEP_ROLE_PATH}*"


class DeploymentVerifier(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        trusted_principal_arns: Sequence[str],
        pipeline_account: str | None,
        prometheus_workspace_arn: str,
        rule_groups_namespaces_read_policy: iam.IManagedPolicy,
        grafana_health_check: lambda_.IFunction,
        probe: lambda_.IFunction,
        prometheus_log_group_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.role = iam.Role(
            self,
            "Role",
            description="Post-deploy verification: AMP health, invokes the cluster probe and Grafana check",
            assumed_by=iam.CompositePrincipal(*(iam.ArnPrincipal(arn) for arn in trusted_principal_arns)),
        )
        if pipeline_account is not None:
            assert self.role.assume_role_policy is not None
            self.role.assume_role_policy.add_statements(
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    principals=[iam.AccountPrincipal(pipeline_account)],
                    conditions={"ArnLike": {"aws:PrincipalArn": verify_step_roles(pipeline_account)}},
                )
            )
        Tags.of(self.role).add(VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryAndReadAlertManager",
                actions=list(AMP_WORKSPACE_ACTIONS),
                resources=[prometheus_workspace_arn],
            )
        )
        # DescribeRuleGroupsNamespace on every namespace of the workspace (the rules construct's policy).
        self.role.add_managed_policy(rule_groups_namespaces_read_policy)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeGrafanaHealthCheck",
                actions=["lambda:InvokeFunction"],
                resources=[grafana_health_check.function_arn],
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
