"""Grafana service accounts and their short-lived tokens (AMG control plane). The provisioner acts as an
ADMIN account; the deployment verifier (scripts/verification) as a VIEWER one, through the same code."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    grafana_role: str
    # No token outlives the step that needs it, and each is deleted as soon as the work is done.
    token_seconds_to_live: int


PROVISIONER = ServiceAccount(name="cdk-provisioner", grafana_role="ADMIN", token_seconds_to_live=900)
SERVICE_ACCOUNT_NAME = PROVISIONER.name
TOKEN_SECONDS_TO_LIVE = PROVISIONER.token_seconds_to_live


def find(grafana: Any, workspace_id: str, account: ServiceAccount = PROVISIONER) -> str | None:
    """The id of the service account called `account.name`, or None."""
    kwargs: dict[str, Any] = {"workspaceId": workspace_id}
    while True:
        page = grafana.list_workspace_service_accounts(**kwargs)
        for found in page.get("serviceAccounts", []):
            if found["name"] == account.name:
                return str(found["id"])
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def ensure(grafana: Any, workspace_id: str, account: ServiceAccount = PROVISIONER) -> str:
    """Finds or creates the service account; returns its id."""
    found = find(grafana, workspace_id, account)
    if found is not None:
        return found
    created = grafana.create_workspace_service_account(
        workspaceId=workspace_id, name=account.name, grafanaRole=account.grafana_role
    )
    LOG.info("created service account %s", created["id"])
    return str(created["id"])


@contextmanager
def short_lived_token(
    grafana: Any, workspace_id: str, account_id: str, account: ServiceAccount = PROVISIONER
) -> Iterator[str]:
    """Yields a token key and deletes the token on the way out, whatever happened in between."""
    created = grafana.create_workspace_service_account_token(
        workspaceId=workspace_id,
        serviceAccountId=account_id,
        name=f"{account.name}-{uuid.uuid4().hex[:12]}",
        secondsToLive=account.token_seconds_to_live,
    )
    token = created["serviceAccountToken"]
    try:
        yield str(token["key"])
    finally:
        grafana.delete_workspace_service_account_token(
            workspaceId=workspace_id, serviceAccountId=account_id, tokenId=token["id"]
        )
        LOG.info("deleted token %s", token["id"])
