"""Stand-ins for the verification's AWS side: one local HTTP server for the AMP query API, botocore Stubbers
for the AMP and Lambda control planes (the cluster probe and the Grafana health check are Lambda
invocations), and a clock that only moves when slept."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
from botocore.response import StreamingBody  # type: ignore[import-untyped]
from botocore.stub import Stubber  # type: ignore[import-untyped]

from scripts.verification.aws import Clients
from scripts.verification.settings import Settings
from tests import local_http

REGION = "eu-west-1"
WORKSPACE_ID = "ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PROBE_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:Dev-Verification-ClusterProbe"
GRAFANA_HEALTH_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:Dev-Grafana-HealthCheck"
ROLE_ARN = "arn:aws:iam::123456789012:role/Dev-Verification-VerifierRole"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeServer:
    """AMP's `/api/v1/query` (answers per job, optionally only from the Nth query on)."""

    def __init__(self) -> None:
        self.up: dict[str, list[str]] = {}  # job -> the `up` values of its targets
        self.up_from_round: dict[str, int] = {}  # job -> first query (1-based) that sees it
        self.queries: list[tuple[str, dict[str, str]]] = []  # (promql, headers)
        self.base = ""

    def query(self, promql: str, headers: dict[str, str]) -> tuple[int, Any]:
        self.queries.append((promql, headers))
        job = promql.split('"')[1]
        asked = sum(1 for q, _ in self.queries if q == promql)
        values = self.up.get(job, []) if asked >= self.up_from_round.get(job, 1) else []
        result = [
            {"metric": {"job": job, "instance": f"10.0.0.{i}"}, "value": [1.7e9, v]}
            for i, v in enumerate(values)
        ]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


def respond(fake: FakeServer, request: BaseHTTPRequestHandler) -> tuple[int, Any]:
    url = urlsplit(request.path)
    headers = {k.lower(): v for k, v in request.headers.items()}
    if url.path.endswith("/api/v1/query"):
        return fake.query(parse_qs(url.query)["query"][0], headers)
    return 404, {"message": "not found"}


@contextmanager
def serving(fake: FakeServer) -> Iterator[FakeServer]:
    with local_http.serving(local_http.local_server(lambda request: respond(fake, request))) as port:
        fake.base = f"http://127.0.0.1:{port}"
        yield fake


def client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret-example"
    )


class Aws:
    """Stubbed control planes. Queue responses with the methods below; `assert_done` checks all were used."""

    def __init__(self, server: FakeServer) -> None:
        self.amp, self.lambda_ = client("amp"), client("lambda")
        self.amp_stub, self.lambda_stub = Stubber(self.amp), Stubber(self.lambda_)
        self.server = server

    def clients(self) -> Clients:
        credentials = boto3.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret-example"
        ).get_credentials()
        return Clients(amp=self.amp, lambda_=self.lambda_, credentials=credentials, region=REGION)

    def settings(self) -> Settings:
        return Settings(
            prometheus_workspace_id=WORKSPACE_ID,
            prometheus_query_url=f"{self.server.base}/workspaces/{WORKSPACE_ID}/api/v1/query",
            grafana_health_check_arn=GRAFANA_HEALTH_ARN,
            role_arn=ROLE_ARN,
            probe_function_arn=PROBE_ARN,
            region=REGION,
        )

    def rule_namespace(self, name: str, status: str, reason: str = "") -> None:
        self.amp_stub.add_response(
            "describe_rule_groups_namespace",
            {
                "ruleGroupsNamespace": {
                    "arn": f"arn:aws:aps:{REGION}:123456789012:rulegroupsnamespace/{WORKSPACE_ID}/{name}",
                    "name": name,
                    "status": {"statusCode": status, **({"statusReason": reason} if reason else {})},
                    "data": b"groups: []",
                    "createdAt": NOW,
                    "modifiedAt": NOW,
                }
            },
            {"workspaceId": WORKSPACE_ID, "name": name},
        )

    def alertmanager(self, status: str, reason: str = "") -> None:
        self.amp_stub.add_response(
            "describe_alert_manager_definition",
            {
                "alertManagerDefinition": {
                    "status": {"statusCode": status, **({"statusReason": reason} if reason else {})},
                    "data": b"alertmanager_config: ''",
                    "createdAt": NOW,
                    "modifiedAt": NOW,
                }
            },
            {"workspaceId": WORKSPACE_ID},
        )

    def invoked(self, function_arn: str, answer: dict[str, Any], function_error: str | None = None) -> None:
        data = json.dumps(answer).encode()
        response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(data), len(data))}
        if function_error:
            response["FunctionError"] = function_error
        self.lambda_stub.add_response("invoke", response, {"FunctionName": function_arn, "Payload": b"{}"})

    def grafana_health(self, answer: dict[str, Any] | None = None) -> None:
        """The Grafana health check's answer (lambda/grafana_provisioner/health.py): healthy by default."""
        self.invoked(GRAFANA_HEALTH_ARN, healthy_grafana() if answer is None else answer)

    def probe(self, answer: dict[str, Any], *, function_error: str | None = None) -> None:
        self.invoked(PROBE_ARN, answer, function_error)

    def assert_done(self) -> None:
        for stub in (self.amp_stub, self.lambda_stub):
            stub.assert_no_pending_responses()


def probe_answer(
    *, complete: bool = True, stuck: bool = False, ready: bool = True, detail: str = "desired 2, updated 2"
) -> dict[str, Any]:
    return {
        "rollout": {"complete": complete, "stuck": stuck, "detail": detail},
        "readiness": {
            "ok": ready,
            "detail": "2/2 pods answered 200 on /readyz"
            if ready
            else "1/2 pods answered 200 on /readyz: b 503",
            "pods": {"a": "200", "b": "200" if ready else "503"},
        },
    }


def healthy_grafana() -> dict[str, Any]:
    return {
        "workspace": "ACTIVE",
        "datasources": {"amp": "OK", "amp-alertmanager": "OK", "cloudwatch": "OK"},
        "dashboards": {"eks-cluster": "present", "eks-nodes": "present"},
    }
