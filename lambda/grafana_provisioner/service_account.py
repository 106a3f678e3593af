"""The Grafana service account the provisioner acts as, and its short-lived tokens (AMG control plane)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOG = logging.getLogger(__name__)

SERVICE_ACCOUNT_NAME = "cdk-provisioner"
# The token outlives no deploy step: 15 minutes at most, and deleted as soon as the work is done.
TOKEN_SECONDS_TO_LIVE = 900


def find(grafana: Any, workspace_id: str) -> str | None:
    """The id of our service account, or None."""
    kwargs: dict[str, Any] = {"workspaceId": workspace_id}
    while True:
        page = grafana.list_workspace_service_accounts(**kwargs)
        for account in page.get("serviceAccounts", []):
            if account["name"] == SERVICE_ACCOUNT_NAME:
                return str(account["id"])
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def ensure(grafana: Any, workspace_id: str) -> str:
    """Finds or creates our ADMIN service account; returns its id."""
    found = find(grafana, workspace_id)
    if found is not None:
        return found
    created = grafana.create_workspace_service_account(
        workspaceId=workspace_id, name=SERVICE_ACCOUNT_NAME, grafanaRole="ADMIN"
    )
    LOG.info("created service account %s", created["id"])
    return str(created["id"])


@contextmanager
def short_lived_token(grafana: Any, workspace_id: str, account_id: str) -> Iterator[str]:
    """Yields a token key and deletes the token on the way out, whatever happened in between."""
    created = grafana.create_workspace_service_account_token(
        workspaceId=workspace_id,
        serviceAccountId=account_id,
        name=f"{SERVICE_ACCOUNT_NAME}-{uuid.uuid4().hex[:12]}",
        secondsToLive=TOKEN_SECONDS_TO_LIVE,
    )
    token = created["serviceAccountToken"]
    try:
        yield str(token["key"])
    finally:
        grafana.delete_workspace_service_account_token(
            workspaceId=workspace_id, serviceAccountId=account_id, tokenId=token["id"]
        )
        LOG.info("deleted token %s", token["id"])
