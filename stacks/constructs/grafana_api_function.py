"""A Lambda function of lambda/grafana_provisioner that calls a Grafana workspace's HTTP API as a
service account it creates for the call: its log group, its role (logs, the Grafana service-account
actions on the workspace, the dashboards asset) and the function. The provisioner and the health check
are two handlers of the same code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.lambda_code import CODE_EXCLUDES

PROVISIONER_CODE = Path(__file__).resolve().parents[2] / "lambda" / "grafana_provisioner"
# The workspace's status and a service account's life cycle; each takes the Grafana `workspace` resource
# (Service Authorization Reference for Amazon Managed Grafana), so they are scoped to our workspace's ARN.
# No ListWorkspaceServiceAccountTokens: not called.
GRAFANA_ACTIONS = (
    "grafana:DescribeWorkspace",
    "grafana:CreateWorkspaceServiceAccount",
    "grafana:ListWorkspaceServiceAccounts",
    "grafana:DeleteWorkspaceServiceAccount",
    "grafana:CreateWorkspaceServiceAccountToken",
    "grafana:DeleteWorkspaceServiceAccountToken",
)


@dataclass(frozen=True)
class GrafanaApiFunction:
    log_group: logs.LogGroup
    role: iam.Role
    function: lambda_.Function


def grafana_api_function(
    scope: Construct,
    *,
    handler: str,
    description: str,
    role_description: str,
    service_account_sid: str,
    timeout: Duration,
    memory_size: int,
    grafana_workspace_arn: str,
    dashboards: s3_assets.Asset,
    log_retention: logs.RetentionDays,
    code_directory: Path = PROVISIONER_CODE,
    environment: Mapping[str, str] | None = None,
) -> GrafanaApiFunction:
    """The log group, role and function as children `LogGroup`, `Role` and `Function` of `scope`."""
    log_group = logs.LogGroup(
        scope, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
    )
    # Our own role: logs to its log group, and nothing else but the two grants below.
    role = iam.Role(
        scope, "Role", description=role_description, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
    )
    log_group.grant_write(role)
    role.add_to_policy(
        iam.PolicyStatement(
            sid=service_account_sid, actions=list(GRAFANA_ACTIONS), resources=[grafana_workspace_arn]
        )
    )
    # The dashboards asset says which dashboards belong in which folder.
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadDashboards",
            actions=["s3:GetObject"],
            resources=[dashboards.bucket.arn_for_objects(dashboards.s3_object_key)],
        )
    )
    function = lambda_.Function(
        scope,
        "Function",
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler=handler,
        code=lambda_.Code.from_asset(str(code_directory), exclude=CODE_EXCLUDES),
        timeout=timeout,
        memory_size=memory_size,
        role=role,
        log_group=log_group,
        environment=dict(environment) if environment else None,
    )
    return GrafanaApiFunction(log_group=log_group, role=role, function=function)
