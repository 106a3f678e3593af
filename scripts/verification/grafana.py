"""Grafana: the data sources the provisioner keeps report healthy and its dashboards are in their folder.

The verifier holds no Grafana right (no service account, no token): it invokes the stage's Grafana health
check function (lambda/grafana_provisioner/health.py), which reads as a VIEWER account of its own that exists
for the call, and answers statuses only. Polled while the workspace is still converging."""

from __future__ import annotations

from typing import Any

from scripts.verification.probe import invoke
from scripts.verification.report import Deadline, Result

DATASOURCES = "Grafana data sources healthy"
DASHBOARDS = "Grafana dashboards provisioned"
# A workspace still converging: worth waiting for (DescribeWorkspace statuses).
TRANSITIONAL = frozenset({"CREATING", "UPDATING", "UPGRADING", "VERSION_UPDATING"})


def _settled(answer: dict[str, Any]) -> bool:
    return "error" not in answer and answer.get("workspace") not in TRANSITIONAL


def _result(check: str, states: dict[str, str], ok_state: str) -> Result:
    if not states:
        return Result(check, False, "none reported")
    ok = all(state == ok_state for state in states.values())
    return Result(check, ok, ", ".join(f"{name} {state}" for name, state in states.items()))


def check_grafana(lambda_: Any, function_arn: str, deadline: Deadline) -> list[Result]:
    answer = deadline.poll(lambda: invoke(lambda_, function_arn), _settled)
    if "error" in answer:
        return [Result(DATASOURCES, False, answer["error"]), Result(DASHBOARDS, False, answer["error"])]
    if answer.get("workspace") != "ACTIVE":
        detail = f"workspace is {answer.get('workspace')}"
        return [Result(DATASOURCES, False, detail), Result(DASHBOARDS, False, detail)]
    return [
        _result(DATASOURCES, dict(answer.get("datasources", {})), "OK"),
        _result(DASHBOARDS, dict(answer.get("dashboards", {})), "present"),
    ]
