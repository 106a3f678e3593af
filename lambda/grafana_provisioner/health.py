"""The read-only health check the deployment verifier invokes (`make verify`, the pipeline's Verify step).

It ignores its payload: what it checks (the workspace, the data sources and dashboards the provisioner keeps)
is fixed by its environment at deploy time. It acts as a VIEWER service account of its own with a token of
two minutes, both deleted before it returns, and only reads. The answer carries statuses, never a token:
  {"workspace": "ACTIVE", "datasources": {"amp": "OK", ...}, "dashboards": {"eks-cluster": "present", ...}}
or {"workspace": "CREATING"} while the workspace is not ready, or {"error": "..."}.
The dashboards and their folders are the provisioner's asset's (every service's too): read from S3, since
their uids would outgrow Lambda's 4 KB of environment variables at a hundred services.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import boto3  # type: ignore[import-untyped]
import datasources
import readiness
import service_account
import urllib3
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from dashboards_asset import read_folders
from deadline import Deadline, DeadlineExceededError, SystemClock
from grafana_api import GrafanaApi, GrafanaError

LOG = logging.getLogger(__name__)
for _name in (__name__, "grafana_api", "service_account"):
    logging.getLogger(_name).setLevel(logging.INFO)
# botocore's DEBUG logs print response bodies, and CreateWorkspaceServiceAccountToken's body is the token.
logging.getLogger("botocore").setLevel(logging.INFO)

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})
CLOCK = SystemClock()  # the tests replace this
CLEANUP_RESERVE_SECONDS = 10.0
# Environment the construct sets (stacks/constructs/grafana_health_check.py).
WORKSPACE_ID = "GRAFANA_WORKSPACE_ID"
ENDPOINT = "GRAFANA_ENDPOINT"
DASHBOARDS_BUCKET = "DASHBOARDS_BUCKET"  # the provisioner's dashboards asset
DASHBOARDS_KEY = "DASHBOARDS_KEY"


def grafana_client(region: str | None) -> Any:
    """The Grafana control-plane client (the tests replace this)."""
    return boto3.client("grafana", region_name=region, config=BOTO_CONFIG)


def s3_client(region: str | None) -> Any:
    """The S3 client reading the dashboards asset (the tests replace this)."""
    return boto3.client("s3", region_name=region, config=BOTO_CONFIG)


def check(event: Any, context: Any, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    del event  # never read: the caller cannot choose what is checked or how
    workspace_id = env[WORKSPACE_ID]
    grafana = grafana_client(env.get("AWS_REGION"))
    deadline = Deadline.from_context(context, CLOCK, reserve=CLEANUP_RESERVE_SECONDS)
    try:
        folders = read_folders(s3_client(env.get("AWS_REGION")), env[DASHBOARDS_BUCKET], env[DASHBOARDS_KEY])
    except (ClientError, BotoCoreError, ValueError, KeyError) as error:
        return {"error": f"dashboards asset: {error}"}
    expected = {str(d["uid"]): str(folder["uid"]) for folder in folders for d in folder["dashboards"]}
    try:
        status = readiness.workspace_status(grafana, workspace_id)
        if status != readiness.ACTIVE:
            return {"workspace": status}
        with service_account.ephemeral(
            grafana, workspace_id, service_account.HEALTH_CHECK, clock=CLOCK
        ) as session:
            api = GrafanaApi(endpoint=env[ENDPOINT], token=session.token, deadline=deadline)
            try:
                found = {
                    "workspace": status,
                    "datasources": {uid: _datasource_health(api, uid) for uid in datasources.UIDS},
                    "dashboards": {uid: _dashboard(api, uid, folder) for uid, folder in expected.items()},
                }
            finally:
                api.close()
    except (ClientError, BotoCoreError) as error:
        return {"error": f"Grafana control plane: {error}"}
    except (urllib3.exceptions.HTTPError, GrafanaError, DeadlineExceededError) as error:
        return {"error": f"Grafana HTTP API: {error}"}
    return found


def _datasource_health(api: GrafanaApi, uid: str) -> str:
    try:
        answer = api.request("GET", f"/api/datasources/uid/{uid}/health") or {}
    except GrafanaError as error:  # 400 with {"status": "ERROR", "message": ...}: unhealthy
        return f"ERROR ({error})"
    state = str(answer.get("status", "?"))
    return state if state == "OK" else f"{state} ({answer.get('message', '')})"


def _dashboard(api: GrafanaApi, uid: str, folder_uid: str) -> str:
    found = api.request("GET", f"/api/dashboards/uid/{uid}", missing_ok=True)
    if found is None:
        return "missing"
    folder = found.get("meta", {}).get("folderUid")
    return "present" if folder == folder_uid else f"in folder {folder!r}, not {folder_uid!r}"
