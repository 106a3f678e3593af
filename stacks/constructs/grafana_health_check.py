"""The read-only Grafana health check the deployment verifier invokes (lambda/grafana_provisioner/health.py).

The verifier gets `lambda:InvokeFunction` on this function and nothing of Grafana: IAM cannot limit
CreateWorkspaceServiceAccount(Token) to a role or an account, so whoever holds them can mint an ADMIN token.
This function holds them instead; its code ignores its payload, creates a VIEWER account of its own with a
token of two minutes, only reads, deletes both, and answers statuses, never a token.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.constructs.grafana_provisioning import CODE_EXCLUDES, PROVISIONER_CODE
from stacks.nag import acknowledge

# Its VIEWER account's life cycle and the workspace's status; each takes the `workspace` resource (Service
# Authorization Reference for Amazon Managed Grafana). No ListWorkspaceServiceAccountTokens: not called.
GRAFANA_ACTIONS = (
    "grafana:DescribeWorkspace",
    "grafana:ListWorkspaceServiceAccounts",
    "grafana:CreateWorkspaceServiceAccount",
    "grafana:DeleteWorkspaceServiceAccount",
    "grafana:CreateWorkspaceServiceAccountToken",
    "grafana:DeleteWorkspaceServiceAccountToken",
)
# Below the verifier's read timeout (70 s, scripts/verification/aws.py): a synchronous invoke waits for it.
TIMEOUT = Duration.seconds(60)


class GrafanaHealthCheck(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        grafana_workspace_id: str,
        grafana_workspace_arn: str,
        grafana_endpoint: str,
        dashboards: s3_assets.Asset,
        log_retention: logs.RetentionDays,
        code_directory: Path = PROVISIONER_CODE,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            description="Grafana health check: a VIEWER service account for one call, read-only HTTP calls",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        self.log_group.grant_write(self.role)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ShortLivedViewerAccount",
                actions=list(GRAFANA_ACTIONS),
                resources=[grafana_workspace_arn],
            )
        )
        # The provisioner's dashboards asset says which dashboards belong in which folder.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadDashboards",
                actions=["s3:GetObject"],
                resources=[dashboards.bucket.arn_for_objects(dashboards.s3_object_key)],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="Post-deploy verification: Grafana data sources and dashboards (read-only)",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="health.check",
            code=lambda_.Code.from_asset(str(code_directory), exclude=CODE_EXCLUDES),
            timeout=TIMEOUT,
            memory_size=128,
            role=self.role,
            log_group=self.log_group,
            environment={
                "GRAFANA_WORKSPACE_ID": grafana_workspace_id,
                "GRAFANA_ENDPOINT": grafana_endpoint,
                "DASHBOARDS_BUCKET": dashboards.s3_bucket_name,
                "DASHBOARDS_KEY": dashboards.s3_object_key,
            },
        )
        acknowledge(
            self.function,
            "L1",
            "The health check shares the provisioner's code and runtime (Python 3.12, its boto3 and "
            "urllib3); move them together.",
        )
