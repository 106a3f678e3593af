"""Grafana service accounts that exist only while one invocation runs (AMG control plane).

Each invocation creates its own account (`<name>-<unix time>-<random>`), mints one token that lives minutes,
and deletes the token and the account before it returns, also when it fails. A run killed before its cleanup
(out of memory, a crash) leaves an account behind: the next run of the same kind deletes every account of its
name older than `stale_after`, the longest an invocation can live. Deleting an account deletes its tokens.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from deadline import Clock

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    grafana_role: str
    token_seconds_to_live: int
    # Accounts of this name older than this belong to a run that can no longer be alive.
    stale_after: int
    # Permanent accounts earlier versions kept under a fixed name: deleted on sight.
    legacy_names: tuple[str, ...] = ()

    def matches(self, name: str, *, now: float) -> bool:
        """True for an account of ours that no running invocation can still be using."""
        if name in self.legacy_names or name == self.name:
            return True
        found = re.fullmatch(rf"{re.escape(self.name)}-(\d+)-[0-9a-f]+", name)
        return found is not None and now - int(found.group(1)) > self.stale_after


# The provisioner writes data sources, folders and dashboards: ADMIN. Its Lambda timeout is 900 s.
PROVISIONER = ServiceAccount(
    name="cdk-provisioner", grafana_role="ADMIN", token_seconds_to_live=900, stale_after=900
)
# The health check only reads: VIEWER (data source health needs `datasources:query`, which viewers have).
HEALTH_CHECK = ServiceAccount(
    name="health-check",
    grafana_role="VIEWER",
    token_seconds_to_live=120,
    stale_after=120,
    legacy_names=("deployment-verifier",),
)


@dataclass(frozen=True)
class Session:
    account_id: str
    token: str


def sweep(grafana: Any, workspace_id: str, account: ServiceAccount, *, now: float) -> list[str]:
    """Deletes leftover accounts of `account`'s name (see ServiceAccount.matches); returns their ids."""
    kwargs: dict[str, Any] = {"workspaceId": workspace_id}
    stale: list[str] = []
    while True:
        page = grafana.list_workspace_service_accounts(**kwargs)
        stale += [
            str(a["id"]) for a in page.get("serviceAccounts", []) if account.matches(a["name"], now=now)
        ]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    for account_id in stale:
        grafana.delete_workspace_service_account(workspaceId=workspace_id, serviceAccountId=account_id)
        LOG.warning("deleted leftover service account %s", account_id)
    return stale


@contextmanager
def ephemeral(grafana: Any, workspace_id: str, account: ServiceAccount, *, clock: Clock) -> Iterator[Session]:
    """Yields a new service account's id and a token key; both are deleted on the way out."""
    now = clock.time()
    sweep(grafana, workspace_id, account, now=now)
    created = grafana.create_workspace_service_account(
        workspaceId=workspace_id,
        name=f"{account.name}-{int(now)}-{uuid.uuid4().hex[:8]}",
        grafanaRole=account.grafana_role,
    )
    account_id = str(created["id"])
    LOG.info("created service account %s (%s)", account_id, account.grafana_role)
    failed = True
    try:
        token = grafana.create_workspace_service_account_token(
            workspaceId=workspace_id,
            serviceAccountId=account_id,
            name=f"{account.name}-{uuid.uuid4().hex[:12]}",
            secondsToLive=account.token_seconds_to_live,
        )["serviceAccountToken"]
        try:
            yield Session(account_id=account_id, token=str(token["key"]))
        finally:
            _cleanup(
                "token",
                lambda: grafana.delete_workspace_service_account_token(
                    workspaceId=workspace_id, serviceAccountId=account_id, tokenId=token["id"]
                ),
            )
        failed = False
    finally:
        deleted = _cleanup(
            "service account",
            lambda: grafana.delete_workspace_service_account(
                workspaceId=workspace_id, serviceAccountId=account_id
            ),
        )
        if not deleted and not failed:
            raise RuntimeError(f"service account {account_id} could not be deleted; the next run removes it")


def _cleanup(what: str, delete: Any) -> bool:
    """Runs `delete`; a failure is logged, never raised over the error that may be on its way out."""
    try:
        delete()
    except (ClientError, BotoCoreError) as error:
        LOG.error("could not delete the %s: %s", what, error)
        return False
    LOG.info("deleted the %s", what)
    return True
