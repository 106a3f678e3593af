"""Grafana: every data source the provisioner creates reports healthy, asked with a token that lives
minutes, belongs to a VIEWER service account (health checks need only `datasources:query`), and is deleted
in a `finally`. The token is never printed or logged."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from scripts.verification.report import Result

# The provisioner Lambda imports its modules from its own folder (lambda/ is no package: a keyword). Its data
# source uids and its Grafana HTTP client are the ones to check with, so import them the same way.
PROVISIONER = Path(__file__).resolve().parents[2] / "lambda" / "grafana_provisioner"
if str(PROVISIONER) not in sys.path:
    sys.path.append(str(PROVISIONER))

import datasources  # noqa: E402
import grafana_api as grafana_api  # noqa: E402 - re-exported: the tests switch its SCHEME
import service_account  # noqa: E402
from grafana_api import GrafanaApi, GrafanaError  # noqa: E402

# botocore's DEBUG logs print response bodies, and CreateWorkspaceServiceAccountToken's body is the token.
logging.getLogger("botocore").setLevel(logging.INFO)

# Health checks need only `datasources:query`: a VIEWER account, with a token that lives 5 minutes.
VERIFIER = service_account.ServiceAccount(
    name="deployment-verifier", grafana_role="VIEWER", token_seconds_to_live=300
)
CHECK = "Grafana data sources healthy"


def check_datasources(grafana: Any, *, workspace_id: str, grafana_url: str) -> Result:
    try:
        status = grafana.describe_workspace(workspaceId=workspace_id)["workspace"]["status"]
        if status != "ACTIVE":
            return Result(CHECK, False, f"workspace {workspace_id} is {status}")
        account_id = service_account.ensure(grafana, workspace_id, VERIFIER)
        with service_account.short_lived_token(grafana, workspace_id, account_id, VERIFIER) as token:
            health = _health(_endpoint(grafana_url), token)
    except (ClientError, BotoCoreError) as error:
        return Result(CHECK, False, f"Grafana control plane: {error}")
    except urllib3.exceptions.HTTPError as error:
        return Result(CHECK, False, f"Grafana unreachable: {error}")
    ok = all(state == "OK" for state in health.values())
    return Result(CHECK, ok, ", ".join(f"{uid} {state}" for uid, state in health.items()))


def _health(endpoint: str, token: str) -> dict[str, str]:
    api = GrafanaApi(endpoint=endpoint, token=token)
    health = {}
    try:
        for uid in datasources.UIDS:
            try:
                answer = api.request("GET", f"/api/datasources/uid/{uid}/health") or {}
                health[uid] = str(answer.get("status", "?"))
                if health[uid] != "OK":
                    health[uid] += f" ({answer.get('message', '')})"
            except GrafanaError as error:  # 400 with {"status": "ERROR", "message": ...}: unhealthy
                health[uid] = f"ERROR ({error})"
    finally:
        api.close()
    return health


def _endpoint(url: str) -> str:
    """The host (and port) the client wants: the output is `https://<host>`; the client adds the scheme."""
    split = urlsplit(url if "//" in url else f"{grafana_api.SCHEME}://{url}")
    return split.netloc
