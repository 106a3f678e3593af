"""The read-only Grafana health check the deployment verifier invokes (lambda/grafana_provisioner/health.py).

The verifier gets `lambda:InvokeFunction` on this function and nothing of Grafana: IAM cannot limit
CreateWorkspaceServiceAccount(Token) to a role or an account, so whoever holds them can mint an ADMIN token.
This function holds them instead; its code ignores its payload, creates a VIEWER account of its own with a
token of two minutes, only reads, deletes both, and answers statuses, never a token.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.constructs.grafana_api_function import PROVISIONER_CODE, grafana_api_function
from stacks.nag import acknowledge

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
        api = grafana_api_function(
            self,
            handler="health.check",
            description="Post-deploy verification: Grafana data sources and dashboards (read-only)",
            role_description="Grafana health check: a VIEWER service account for one call, read-only calls",
            service_account_sid="ShortLivedViewerAccount",
            timeout=TIMEOUT,
            memory_size=128,
            grafana_workspace_arn=grafana_workspace_arn,
            dashboards=dashboards,
            log_retention=log_retention,
            code_directory=code_directory,
            environment={
                "GRAFANA_WORKSPACE_ID": grafana_workspace_id,
                "GRAFANA_ENDPOINT": grafana_endpoint,
                "DASHBOARDS_BUCKET": dashboards.s3_bucket_name,
                "DASHBOARDS_KEY": dashboards.s3_object_key,
            },
        )
        self.log_group, self.role, self.function = api.log_group, api.role, api.function
        acknowledge(
            self.function,
            "L1",
            "The health check shares the provisioner's code and runtime (Python 3.12, its boto3 and "
            "urllib3); move them together.",
        )
