"""CDK Provider-framework handler: keeps AMG's data sources, folder and dashboards as the stack says.

Each invocation first waits (bounded by its Lambda timeout) for a workspace that is not ready yet, then acts
through a service account of its own with a token that lives 15 minutes at most; both are deleted before the
handler returns, also when it fails (service_account.ephemeral). The token is never logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3  # type: ignore[import-untyped]
import datasources
import readiness
import service_account
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from deadline import Deadline, SystemClock
from grafana_api import GrafanaApi

LOG = logging.getLogger(__name__)
# Our own INFO lines (method, path, status) show whatever the function's log level.
for _name in (__name__, "grafana_api", "service_account", "readiness"):
    logging.getLogger(_name).setLevel(logging.INFO)
# botocore's DEBUG logs print response bodies, and CreateWorkspaceServiceAccountToken's body is the token.
logging.getLogger("botocore").setLevel(logging.INFO)

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
CLOCK = SystemClock()  # the tests replace this
# Kept back from the Lambda timeout for deleting the token and the service account.
CLEANUP_RESERVE_SECONDS = 30.0


def aws_clients(region: str) -> tuple[Any, Any]:
    """The Grafana control-plane and S3 clients (the tests replace this)."""
    return (
        boto3.client("grafana", region_name=region, config=BOTO_CONFIG),
        boto3.client("s3", region_name=region, config=BOTO_CONFIG),
    )


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    props = event["ResourceProperties"]
    workspace_id = props["GrafanaWorkspaceId"]
    physical_id = f"grafana-provisioning-{workspace_id}"
    LOG.info("%s %s", event["RequestType"], physical_id)
    grafana, s3 = aws_clients(props["Region"])
    deadline = Deadline.from_context(context, CLOCK, reserve=CLEANUP_RESERVE_SECONDS)
    if event["RequestType"] == "Delete":
        _delete(grafana, s3, props, deadline)
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    # Read the dashboards first: a missing asset fails the deploy before Grafana is touched.
    dashboards = _dashboards(s3, props)
    readiness.wait_for_workspace(grafana, workspace_id, deadline)
    readiness.wait_for_http(props["GrafanaEndpoint"], deadline)
    with service_account.ephemeral(
        grafana, workspace_id, service_account.PROVISIONER, clock=CLOCK
    ) as session:
        api = GrafanaApi(endpoint=props["GrafanaEndpoint"], token=session.token, deadline=deadline)
        try:
            _apply(api, dashboards, props)
        finally:
            api.close()
    return {
        "PhysicalResourceId": physical_id,
        "Data": {
            "AmpDataSourceType": datasources.datasource_type(props["GrafanaVersion"]),
            "DashboardCount": str(len(dashboards)),
        },
    }


def _dashboards(s3: Any, props: dict[str, str]) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=props["DashboardsBucket"], Key=props["DashboardsKey"])["Body"].read()
    return list(json.loads(body)["dashboards"])


def _apply(api: GrafanaApi, dashboards: list[dict[str, Any]], props: dict[str, str]) -> None:
    wanted = datasources.desired(
        version=props["GrafanaVersion"],
        region=props["Region"],
        prometheus_endpoint=props["PrometheusEndpoint"],
    )
    for source in wanted:
        _upsert_datasource(api, source)
    _ensure_folder(api, props["FolderUid"], props["FolderTitle"])
    for dashboard in dashboards:
        _upload_dashboard(api, dashboard, props["FolderUid"])


def _upsert_datasource(api: GrafanaApi, source: dict[str, Any]) -> None:
    path = f"/api/datasources/uid/{source['uid']}"
    existing = api.request("GET", path, missing_ok=True)
    if existing is None:
        api.request("POST", "/api/datasources", source)
    elif not datasources.up_to_date(existing, source):
        api.request("PUT", path, source)


def _ensure_folder(api: GrafanaApi, uid: str, title: str) -> None:
    existing = api.request("GET", f"/api/folders/{uid}", missing_ok=True)
    if existing is None:
        api.request("POST", "/api/folders", {"uid": uid, "title": title})
    elif existing.get("title") != title:
        api.request("PUT", f"/api/folders/{uid}", {"title": title, "overwrite": True})


def _upload_dashboard(api: GrafanaApi, dashboard: dict[str, Any], folder_uid: str) -> None:
    model = {**dashboard, "id": None}
    current = api.request("GET", f"/api/dashboards/uid/{dashboard['uid']}", missing_ok=True)
    if current is not None and current.get("meta", {}).get("folderUid") == folder_uid:
        stored = {k: v for k, v in current.get("dashboard", {}).items() if k not in ("id", "version")}
        if stored == {k: v for k, v in model.items() if k not in ("id", "version")}:
            return  # unchanged: no new dashboard version
    # folderUid on every upload: without it Grafana moves an updated dashboard to the root level.
    body = {"dashboard": model, "folderUid": folder_uid, "overwrite": True, "message": "Provisioned by CDK"}
    api.request("POST", "/api/dashboards/db", body)


def _delete(grafana: Any, s3: Any, props: dict[str, str], deadline: Deadline) -> None:
    workspace_id = props["GrafanaWorkspaceId"]
    try:
        status = readiness.workspace_status(grafana, workspace_id)
        if status == "DELETING":
            LOG.info("workspace %s is being deleted: nothing to remove", workspace_id)
            return
        if status != readiness.ACTIVE:
            readiness.wait_for_workspace(grafana, workspace_id, deadline)
        with service_account.ephemeral(
            grafana, workspace_id, service_account.PROVISIONER, clock=CLOCK
        ) as session:
            api = GrafanaApi(endpoint=props["GrafanaEndpoint"], token=session.token, deadline=deadline)
            try:
                _remove(api, s3, props)
            finally:
                api.close()
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        # The workspace is gone, and everything in it: nothing left to remove.
        LOG.info("workspace %s not found: nothing to remove", workspace_id)


def _remove(api: GrafanaApi, s3: Any, props: dict[str, str]) -> None:
    try:
        uids = [str(d["uid"]) for d in _dashboards(s3, props)]
    except ClientError:
        # Deleting the folder below removes its dashboards too; a lost asset must not block stack deletion.
        LOG.warning("dashboards asset unreadable; relying on the folder deletion")
        uids = []
    for uid in uids:
        api.request("DELETE", f"/api/dashboards/uid/{uid}", missing_ok=True)
    api.request("DELETE", f"/api/folders/{props['FolderUid']}", missing_ok=True)
    for uid in datasources.UIDS:
        api.request("DELETE", f"/api/datasources/uid/{uid}", missing_ok=True)
