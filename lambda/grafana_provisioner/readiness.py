"""Waits for a workspace that is not ready yet (a fresh one, or one being updated): its control-plane status
must be ACTIVE and its Grafana HTTP API must answer, before any service account exists.

AWS's own getting-started script for AMG polls a new workspace for up to 30 x 30 s (15 minutes) before it
gives up; the provisioner's wait is bounded by its Lambda timeout (15 minutes, the maximum) instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import grafana_api
import urllib3
from deadline import Deadline
from urllib3.util import Timeout

LOG = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
# Still converging: worth waiting for. Any other status (…_FAILED, DELETING, DEGRADED) fails at once.
TRANSITIONAL = frozenset({"CREATING", "UPDATING", "UPGRADING", "VERSION_UPDATING"})
# Exponential backoff between polls: 2, 4, 8, 16, then every 30 s.
FIRST_WAIT = 2.0
MAX_WAIT = 30.0
# Grafana's own liveness endpoint: unauthenticated, 200 once its database answers.
HEALTH_PATH = "/api/health"


class NotReadyError(Exception):
    """The workspace is in a state waiting cannot fix."""


def backoff() -> Iterator[float]:
    wait = FIRST_WAIT
    while True:
        yield wait
        wait = min(wait * 2, MAX_WAIT)


def workspace_status(grafana: Any, workspace_id: str) -> str:
    return str(grafana.describe_workspace(workspaceId=workspace_id)["workspace"]["status"])


def wait_for_workspace(grafana: Any, workspace_id: str, deadline: Deadline) -> None:
    """Returns once the workspace is ACTIVE; raises NotReadyError for a failed state."""
    for wait in backoff():
        status = workspace_status(grafana, workspace_id)
        if status == ACTIVE:
            return
        if status not in TRANSITIONAL:
            raise NotReadyError(f"Grafana workspace {workspace_id} is {status}")
        LOG.info("workspace %s is %s: next look in %.0f s", workspace_id, status, wait)
        deadline.sleep(wait, waiting_for=f"workspace {workspace_id} (still {status})")


def wait_for_http(endpoint: str, deadline: Deadline) -> None:
    """Returns once the workspace's HTTP front end answers below 500 on /api/health (200 from Grafana; a
    redirect or 401 from a front end that wants sign-in also proves it is up); 5xx and connection errors
    are waited out."""
    http = urllib3.PoolManager(retries=False, timeout=Timeout(connect=5.0, read=10.0))
    url = f"{grafana_api.SCHEME}://{endpoint}{HEALTH_PATH}"
    try:
        for wait in backoff():
            try:
                status = http.request("GET", url).status
                seen = f"HTTP {status}"
            except urllib3.exceptions.HTTPError as error:
                status, seen = 0, type(error).__name__
            if 0 < status < 500:
                return
            LOG.info("grafana %s -> %s: next look in %.0f s", HEALTH_PATH, seen, wait)
            deadline.sleep(wait, waiting_for=f"Grafana's HTTP API (last answer: {seen})")
    finally:
        http.clear()
