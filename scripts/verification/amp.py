"""AMP: samples of every expected scrape job arrive (query API, SigV4), rules and Alertmanager are ACTIVE."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from urllib3.util import Retry, Timeout

from observability.jobs import OptIn, all_jobs
from observability.model.load import load_default
from observability.render import managed_config
from observability.render.rules import rule_files
from scripts.verification.report import Deadline, Result

ACTIVE = "ACTIVE"
# Still converging: worth waiting for. Any other status (…_FAILED, DELETING) fails at once.
TRANSITIONAL = frozenset({"CREATING", "UPDATING"})


def expected_jobs(*, managed_collector: bool = False) -> list[str]:
    """Every job of the agent that has targets here: the dedicated jobs, one per service (the orders API),
    and `pods` (the Postgres pod opts in). No Service of ours carries the opt-in annotation:
    `service-endpoints` has no target. With AMP's managed collector no agent runs: no `prometheus-agent`."""
    return [
        job.name
        for job in all_jobs(load_default())
        if job.targets.opt_in is not OptIn.SERVICE
        and not (managed_collector and job.name in managed_config.DROPPED_JOBS)
    ]


def rule_namespaces() -> list[str]:
    """The rule groups namespaces the Monitoring stack creates: one per rules file (names only)."""
    return sorted(rule_files(load_default(), runbook_base_url="https://runbooks.invalid"))


class PrometheusQuery:
    """Instant queries against the workspace's query API, signed with SigV4 (service `aps`)."""

    def __init__(self, *, query_url: str, credentials: Any, region: str) -> None:
        self._url = query_url
        self._signer = SigV4Auth(credentials, "aps", region)
        retry = Retry(total=4, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504))
        self._http = urllib3.PoolManager(retries=retry, timeout=Timeout(connect=5.0, read=30.0))

    def instant(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self._url}?{urlencode({'query': promql}, quote_via=quote)}"
        request = AWSRequest(method="GET", url=url)
        self._signer.add_auth(request)
        response = self._http.request("GET", url, headers=dict(request.headers))
        if response.status != 200:
            raise QueryError(f"query {promql!r} returned HTTP {response.status}: {response.data[:200]!r}")
        body = json.loads(response.data)
        if body.get("status") != "success":
            raise QueryError(f"query {promql!r}: {body.get('error', body.get('status'))}")
        return list(body["data"]["result"])


class QueryError(Exception):
    pass


def check_samples(query: PrometheusQuery, jobs: list[str], deadline: Deadline) -> Result:
    """`up{job=...}` for each job until each has a target up (1); jobs already seen are not asked again."""
    seen: dict[str, str] = {}
    errors: list[str] = []

    def attempt() -> list[str]:
        errors.clear()
        for job in [j for j in jobs if j not in seen]:
            try:
                series = query.instant(f'up{{job="{job}"}}')
            except (QueryError, urllib3.exceptions.HTTPError) as error:
                errors.append(str(error))
                continue
            up = sum(1 for s in series if s.get("value", [None, "0"])[1] == "1")
            if up:
                seen[job] = f"{up}/{len(series)} up"
        return [j for j in jobs if j not in seen]

    missing = deadline.poll(attempt, lambda left: not left)
    check = "samples arrive in AMP"
    if not missing:
        return Result(check, True, ", ".join(f"{job} {seen[job]}" for job in jobs))
    detail = f"no target up after the wait for job(s) {', '.join(missing)}"
    if errors:
        detail += f" (last error: {errors[-1]})"
    return Result(check, False, detail)


def check_rules(amp: Any, workspace_id: str, namespaces: list[str], deadline: Deadline) -> Result:
    def status(name: str) -> str:
        described = amp.describe_rule_groups_namespace(workspaceId=workspace_id, name=name)
        return _status(described["ruleGroupsNamespace"]["status"])

    readers: dict[str, Callable[[], str]] = {name: functools.partial(status, name) for name in namespaces}
    return _active("rule groups namespaces ACTIVE", readers, deadline)


def check_alertmanager(amp: Any, workspace_id: str, deadline: Deadline) -> Result:
    def status() -> str:
        described = amp.describe_alert_manager_definition(workspaceId=workspace_id)
        return _status(described["alertManagerDefinition"]["status"])

    return _active("Alertmanager definition ACTIVE", {"definition": status}, deadline)


def _status(status: dict[str, Any]) -> str:
    reason = status.get("statusReason")
    return f"{status['statusCode']}{f' ({reason})' if reason else ''}"


def _active(check: str, readers: dict[str, Callable[[], str]], deadline: Deadline) -> Result:
    """Polls each status while it is transitional; PASS when every one is ACTIVE."""

    def attempt() -> dict[str, str]:
        statuses = {}
        for name, read in readers.items():
            try:
                statuses[name] = read()
            except (ClientError, BotoCoreError) as error:
                statuses[name] = f"unreadable: {error}"
        return statuses

    def settled(statuses: dict[str, str]) -> bool:
        return not any(s.split(" ")[0] in TRANSITIONAL for s in statuses.values())

    statuses = deadline.poll(attempt, settled)
    ok = all(s == ACTIVE for s in statuses.values())
    return Result(check, ok, ", ".join(f"{name} {status}" for name, status in statuses.items()))
