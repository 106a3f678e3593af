"""A small client for the Grafana HTTP API: bearer token, retries with backoff, no secret in logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import urllib3
from deadline import Deadline
from urllib3.util import Retry, Timeout

LOG = logging.getLogger(__name__)

# Production talks HTTPS only; the tests point this at a local fake server over HTTP.
SCHEME = "https"
# Retries after the first attempt, for 429, 5xx and connection errors; waits honour Retry-After.
RETRIES = 4
BACKOFF_FACTOR = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Every call the provisioner makes is idempotent (upserts by uid, deletes by uid), so POST may be retried.
RETRY_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})


class GrafanaError(Exception):
    """A Grafana call failed: carries the method, path and status, never the token."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"Grafana {method} {path} returned {status}: {message}")
        self.status = status


class GrafanaApi:
    def __init__(self, *, endpoint: str, token: str, deadline: Deadline | None = None) -> None:
        self._base = f"{SCHEME}://{endpoint}"
        self._deadline = deadline
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        retry = Retry(
            total=RETRIES,
            backoff_factor=BACKOFF_FACTOR,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=RETRY_METHODS,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self._http = urllib3.PoolManager(retries=retry, timeout=Timeout(connect=5.0, read=30.0))

    def request(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        """Calls `path` (starting with /api/); returns the decoded JSON, or None on a tolerated 404."""
        if self._deadline is not None:
            self._deadline.check(f"{method} {path}")
        data = None if body is None else json.dumps(body).encode()
        response = self._http.request(method, self._base + path, body=data, headers=self._headers)
        LOG.info("grafana %s %s -> %d", method, path, response.status)
        if response.status == 404 and missing_ok:
            return None
        if response.status >= 300:
            raise GrafanaError(method, path, response.status, _message(response.data))
        return json.loads(response.data) if response.data else None

    def close(self) -> None:
        self._http.clear()


def _message(data: bytes) -> str:
    # Grafana errors are {"message": ...}; keep only that, short, for the CloudFormation event.
    try:
        return str(json.loads(data).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return ""
