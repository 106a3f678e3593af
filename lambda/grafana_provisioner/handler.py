"""CDK Provider-framework handler: keeps AMG's data sources, folders and dashboards as the stack says.

The dashboards asset (S3) is `{"folders": [{"uid", "title", "dashboards": [JSON models]}]}`: the platform's
folder and one per service. The resource's `Folders` property maps each folder uid to its dashboards' uids:
what this resource owns. An Update reads the previous `Folders` (OldResourceProperties, so from the template,
not from an asset that may have been garbage-collected) and deletes the dashboards no longer wanted, then
the folders no longer wanted if nothing else is left in them (a dashboard someone saved there is kept).

Each invocation first waits (bounded by its Lambda timeout) for a workspace that is not ready yet, then acts
through a service account of its own with a token that lives 15 minutes at most; both are deleted before the
handler returns, also when it fails (service_account.ephemeral). The token is never logged.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3  # type: ignore[import-untyped]
import datasources
import readiness
import service_account
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from dashboards_asset import read_folders
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
        _delete(grafana, props, deadline)
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    # Read the dashboards first: a missing asset fails the deploy before Grafana is touched.
    folders = read_folders(s3, props["DashboardsBucket"], props["DashboardsKey"])
    owned_before = owned(event.get("OldResourceProperties", {}))
    readiness.wait_for_workspace(grafana, workspace_id, deadline)
    readiness.wait_for_http(props["GrafanaEndpoint"], deadline)
    with service_account.ephemeral(
        grafana, workspace_id, service_account.PROVISIONER, clock=CLOCK
    ) as session:
        api = GrafanaApi(endpoint=props["GrafanaEndpoint"], token=session.token, deadline=deadline)
        try:
            _apply(api, folders, props)
            wanted = {folder["uid"]: [d["uid"] for d in folder["dashboards"]] for folder in folders}
            _remove_unwanted(api, owned_before, wanted=wanted)
        finally:
            api.close()
    return {
        "PhysicalResourceId": physical_id,
        "Data": {
            "AmpDataSourceType": datasources.datasource_type(props["GrafanaVersion"]),
            "FolderCount": str(len(folders)),
            "DashboardCount": str(sum(len(folder["dashboards"]) for folder in folders)),
        },
    }


def owned(props: dict[str, Any]) -> dict[str, list[str]]:
    """Folder uid -> dashboard uids, as a resource's `Folders` property lists them ({} before it had one)."""
    return {str(uid): [str(d) for d in uids] for uid, uids in dict(props.get("Folders") or {}).items()}


def _apply(api: GrafanaApi, folders: list[dict[str, Any]], props: dict[str, str]) -> None:
    wanted = datasources.desired(
        version=props["GrafanaVersion"],
        region=props["Region"],
        prometheus_endpoint=props["PrometheusEndpoint"],
    )
    for source in wanted:
        _upsert_datasource(api, source)
    for folder in folders:
        _ensure_folder(api, folder["uid"], folder["title"])
        for dashboard in folder["dashboards"]:
            _upload_dashboard(api, dashboard, folder["uid"])


def _remove_unwanted(api: GrafanaApi, before: dict[str, list[str]], *, wanted: dict[str, list[str]]) -> None:
    """Deletes what `before` owned and `wanted` no longer lists: dashboards, then emptied folders."""
    kept = {uid for uids in wanted.values() for uid in uids}
    for uid in sorted({uid for uids in before.values() for uid in uids} - kept):
        api.request("DELETE", f"/api/dashboards/uid/{uid}", missing_ok=True)
    for uid in sorted(set(before) - set(wanted)):
        _delete_folder_if_empty(api, uid)


def _delete_folder_if_empty(api: GrafanaApi, uid: str) -> None:
    # Deleting a folder deletes everything in it: only when nothing but ours was there (now deleted).
    left = api.request("GET", f"/api/search?folderUIDs={uid}&limit=1")
    if left:
        LOG.warning("folder %s still holds dashboards or folders not provisioned here: kept", uid)
        return
    api.request("DELETE", f"/api/folders/{uid}", missing_ok=True)


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


def _delete(grafana: Any, props: dict[str, Any], deadline: Deadline) -> None:
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
                _remove(api, props)
            finally:
                api.close()
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        # The workspace is gone, and everything in it: nothing left to remove.
        LOG.info("workspace %s not found: nothing to remove", workspace_id)


def _remove(api: GrafanaApi, props: dict[str, Any]) -> None:
    # What the resource owns is in its properties: no asset needed (it may be gone by now).
    _remove_unwanted(api, owned(props), wanted={})
    for uid in datasources.UIDS:
        api.request("DELETE", f"/api/datasources/uid/{uid}", missing_ok=True)
