"""The custom resource that provisions data sources, folders and dashboards into the Grafana workspace on
every deploy, as an ADMIN service account that exists only while the function runs
(lambda/grafana_provisioner).

The dashboards reach it as one S3 asset, `dashboards.json` (`{"folders": [{"uid", "title", "dashboards"}]}`:
the platform's folder and one per service), written at synth to a temporary directory: its object key is a
hash of the content, so a dashboard change alone updates the custom resource. The `Folders` property lists
what it owns (folder uid -> dashboard uids): on the next update the provisioner deletes what left the list.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_aps as aps
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from observability.dashboards import Folder
from stacks.constructs.grafana_api_function import PROVISIONER_CODE, grafana_api_function
from stacks.nag import acknowledge, managed_policy

# Lambda's maximum: a fresh or updating workspace is waited for within it (AWS's own AMG getting-started
# script waits up to 15 minutes for ACTIVE); the provider framework's onEvent function waits as long.
TIMEOUT = Duration.minutes(15)


def dashboards_file(folders: Sequence[Folder]) -> Path:
    """`{"folders": [...]}` with sorted keys in a new temporary directory (never in the source tree)."""
    document = {
        "folders": [
            {"uid": folder.uid, "title": folder.title, "dashboards": list(folder.dashboards)}
            for folder in folders
        ]
    }
    path = Path(tempfile.mkdtemp(prefix="grafana-dashboards-")) / "dashboards.json"
    path.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n")
    return path


def owned(folders: Sequence[Folder]) -> dict[str, list[str]]:
    """Folder uid -> its dashboards' uids: the `Folders` property."""
    return {folder.uid: [str(d["uid"]) for d in folder.dashboards] for folder in folders}


class GrafanaProvisioning(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        grafana_workspace_id: str,
        grafana_workspace_arn: str,
        grafana_endpoint: str,
        grafana_version: str,
        prometheus_workspace: aps.CfnWorkspace,
        dashboards: Sequence[Folder],
        log_retention: logs.RetentionDays,
        code_directory: Path = PROVISIONER_CODE,
    ) -> None:
        super().__init__(scope, id_)
        self.dashboards = s3_assets.Asset(self, "Dashboards", path=str(dashboards_file(dashboards)))

        api = grafana_api_function(
            self,
            handler="handler.on_event",
            description="Provisions Grafana data sources, folders and dashboards (custom resource)",
            role_description="Grafana provisioner: a service account for one run, then the Grafana HTTP API",
            service_account_sid="ServiceAccountForOneRun",
            timeout=TIMEOUT,
            memory_size=256,
            grafana_workspace_arn=grafana_workspace_arn,
            dashboards=self.dashboards,
            log_retention=log_retention,
            code_directory=code_directory,
        )
        self.log_group, self.role, self.function = api.log_group, api.role, api.function

        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=logs.LogGroup(
                self, "ProviderLogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
            ),
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::GrafanaProvisioning",
            properties={
                "GrafanaWorkspaceId": grafana_workspace_id,
                "GrafanaEndpoint": grafana_endpoint,
                "GrafanaVersion": grafana_version,
                "Region": Stack.of(self).region,
                "PrometheusWorkspaceId": prometheus_workspace.attr_workspace_id,
                "PrometheusEndpoint": prometheus_workspace.attr_prometheus_endpoint,
                "DashboardsBucket": self.dashboards.s3_bucket_name,
                "DashboardsKey": self.dashboards.s3_object_key,
                "Folders": owned(dashboards),
            },
        )
        acknowledge(
            self.function,
            "L1",
            "The provisioner targets Python 3.12 on purpose: it uses only the boto3 and urllib3 that runtime "
            "ships, and its tests run on that version; move it with them.",
        )
        self._acknowledge_provider_framework()

    def _acknowledge_provider_framework(self) -> None:
        """Findings on the Lambda function aws-cdk-lib's provider framework generates."""
        framework = self.provider.node.find_child("framework-onEvent")
        acknowledge(
            framework,
            managed_policy("service-role/AWSLambdaBasicExecutionRole"),
            "aws-cdk-lib's custom resource provider framework function writes its own logs with this AWS "
            "managed policy; it has no other permissions besides invoking our handler.",
        )
        acknowledge(
            framework,
            f"IAM5[Resource::<{Stack.of(self).get_logical_id(self.function.node.default_child)}.Arn>:*]",  # type: ignore[arg-type]
            "The provider framework may invoke any version of the provisioner function, and only it.",
        )
