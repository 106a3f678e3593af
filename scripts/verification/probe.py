"""The web app, seen by the cluster probe inside the VPC (lambda/cluster_probe): rollout complete, and every
running pod answering 200 on its readiness endpoint. Polled until both hold, the rollout gives up
(ProgressDeadlineExceeded), or the deadline passes."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from scripts.verification.report import Deadline, Result

ROLLOUT = "web app rollout complete"
READINESS = "web app readiness endpoint answers 200"


def invoke(lambda_: Any, function_arn: str) -> dict[str, Any]:
    try:
        response = lambda_.invoke(FunctionName=function_arn, Payload=b"{}")
    except (ClientError, BotoCoreError) as error:
        return {"error": f"invoke failed: {error}"}
    payload: dict[str, Any] = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        return {"error": f"function failed: {payload.get('errorMessage', response['FunctionError'])}"}
    return payload


def _settled(answer: dict[str, Any]) -> bool:
    if "error" in answer:
        return False
    rollout, readiness = answer["rollout"], answer["readiness"]
    return bool(rollout["stuck"] or (rollout["complete"] and readiness["ok"]))


def check_web_app(lambda_: Any, function_arn: str, deadline: Deadline) -> list[Result]:
    answer = deadline.poll(lambda: invoke(lambda_, function_arn), _settled)
    if "error" in answer:
        return [Result(ROLLOUT, False, answer["error"]), Result(READINESS, False, answer["error"])]
    rollout, readiness = answer["rollout"], answer["readiness"]
    return [
        Result(ROLLOUT, bool(rollout["complete"]), str(rollout["detail"])),
        Result(READINESS, bool(readiness["ok"]), str(readiness["detail"])),
    ]
