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
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from scripts.verification.aws import Clients
from scripts.verification.settings import Settings
from tests import local_http

REGION = "eu-west-1"
WORKSPACE_ID = "ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PROBE_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:Dev-Verification-ClusterProbe"
GRAFANA_HEALTH_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:Dev-Grafana-HealthCheck"
ROLE_ARN = "arn:aws:iam::123456789012:role/Dev-Verification-VerifierRole"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
# Alert delivery: the topics and the AMP workspace's log group, as the Monitoring stack's outputs name them.
TOPIC_PREFIX = "arn:aws:sns:eu-west-1:123456789012:"
WATCHDOG_TOPIC = "Dev-Monitoring-AlertsWatchdogTopicD3348059-Ab12Cd34"
PAGE_TOPIC = "Dev-Monitoring-AlertsPageTopic01B8868C-Ef56Gh78"
TICKET_TOPIC = "Dev-Monitoring-AlertsTicketTopic0D837FA9-Ij90Kl12"
LOG_GROUP = "/aws/vendedlogs/prometheus/Dev-Monitoring-Prometheus-1A2B3C4D"
# Any Alertmanager error in AMP's JSON log events (component and level fields).
ALERTMANAGER_ERRORS = (
    '{ ($.component = "alertmanager") && (($.message.level = "ERROR") || ($.message.level = "error")) }'
)


def sns_query(query_id: str, metric: str, topic: str) -> dict[str, Any]:
    """One GetMetricData query: an SNS topic metric (namespace AWS/SNS, dimension TopicName), summed per
    minute."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SNS",
                "MetricName": metric,
                "Dimensions": [{"Name": "TopicName", "Value": topic}],
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


SNS_QUERIES = [
    sns_query("published", "NumberOfMessagesPublished", WATCHDOG_TOPIC),
    sns_query("failed0", "NumberOfNotificationsFailed", WATCHDOG_TOPIC),
    sns_query("failed1", "NumberOfNotificationsFailed", PAGE_TOPIC),
    sns_query("failed2", "NumberOfNotificationsFailed", TICKET_TOPIC),
]


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
        self.cloudwatch, self.logs = client("cloudwatch"), client("logs")
        self.cloudwatch_stub, self.logs_stub = Stubber(self.cloudwatch), Stubber(self.logs)
        self.server = server

    def clients(self) -> Clients:
        credentials = boto3.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret-example"
        ).get_credentials()
        return Clients(
            amp=self.amp,
            lambda_=self.lambda_,
            cloudwatch=self.cloudwatch,
            logs=self.logs,
            credentials=credentials,
            region=REGION,
        )

    def settings(self) -> Settings:
        return Settings(
            prometheus_workspace_id=WORKSPACE_ID,
            prometheus_query_url=f"{self.server.base}/workspaces/{WORKSPACE_ID}/api/v1/query",
            grafana_health_check_arn=GRAFANA_HEALTH_ARN,
            role_arn=ROLE_ARN,
            probe_function_arn=PROBE_ARN,
            region=REGION,
            watchdog_topic_arn=TOPIC_PREFIX + WATCHDOG_TOPIC,
            page_topic_arn=TOPIC_PREFIX + PAGE_TOPIC,
            ticket_topic_arn=TOPIC_PREFIX + TICKET_TOPIC,
            prometheus_log_group=LOG_GROUP,
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

    def sns_metrics(
        self,
        *,
        published: list[float],
        failed: dict[str, list[float]] | None = None,
        start: Any = ANY,
        end: Any = ANY,
        next_token: str | None = None,
        token: str | None = None,
    ) -> None:
        """One GetMetricData answer: per-minute sums of the watchdog topic's published messages and of each
        topic's failed deliveries (`failed`: query id -> values; an absent metric has no values)."""
        values = {
            "published": published,
            **{q: (failed or {}).get(q, []) for q in ("failed0", "failed1", "failed2")},
        }
        results: list[dict[str, Any]] = [
            {
                "Id": query_id,
                "Label": query_id,
                "Timestamps": [NOW - datetime.timedelta(minutes=i) for i in range(len(points))],
                "Values": points,
                "StatusCode": "Complete",
            }
            for query_id, points in values.items()
        ]
        expected: dict[str, Any] = {"MetricDataQueries": SNS_QUERIES, "StartTime": start, "EndTime": end}
        if token:
            expected["NextToken"] = token
        response: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if next_token:
            response["NextToken"] = next_token
        self.cloudwatch_stub.add_response("get_metric_data", response, expected)

    def sns_metrics_error(self, code: str, message: str) -> None:
        self.cloudwatch_stub.add_client_error(
            "get_metric_data", service_error_code=code, service_message=message, http_status_code=400
        )

    def alertmanager_log(
        self,
        events: list[dict[str, Any]] | None = None,
        *,
        start: Any = ANY,
        end: Any = ANY,
        next_token: str | None = None,
        token: str | None = None,
    ) -> None:
        expected: dict[str, Any] = {
            "logGroupName": LOG_GROUP,
            "startTime": start,
            "endTime": end,
            "filterPattern": ALERTMANAGER_ERRORS,
        }
        if token:
            expected["nextToken"] = token
        response: dict[str, Any] = {"events": events or [], "searchedLogStreams": []}
        if next_token:
            response["nextToken"] = next_token
        self.logs_stub.add_response("filter_log_events", response, expected)

    def alertmanager_log_error(self, code: str, message: str) -> None:
        self.logs_stub.add_client_error(
            "filter_log_events", service_error_code=code, service_message=message, http_status_code=400
        )

    def assert_done(self) -> None:
        for stub in (self.amp_stub, self.lambda_stub, self.cloudwatch_stub, self.logs_stub):
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
