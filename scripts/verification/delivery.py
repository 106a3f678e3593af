"""Alerts are delivered: the Watchdog notification reached its SNS topic, SNS failed no delivery, and the AMP
workspace's Alertmanager logged no error (an SNS publish refused by a topic or KMS key policy lands there).

SNS's CloudWatch metrics (namespace `AWS/SNS`, dimension `TopicName`): `NumberOfMessagesPublished` counts
what reached a topic, `NumberOfNotificationsFailed` what SNS could not deliver to a subscriber
(https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html). A publish that KMS or the
topic policy refuses is not published, so a heartbeat counted here went through both. AMP's log events are
JSON: `{"workspaceId": ..., "message": {"log": ..., "level": ...}, "component": "alertmanager"}`
(https://docs.aws.amazon.com/prometheus/latest/userguide/Troubleshooting-alerting.html).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from observability.alertmanager import WATCHDOG_REPEAT_MINUTES
from scripts.verification.report import Deadline, Result

HEARTBEAT = "Watchdog notification reached its SNS topic"
FAILURES = "SNS delivered every alert notification"
ALERTMANAGER_LOG = "AMP Alertmanager logged no publish error"

NAMESPACE = "AWS/SNS"
PUBLISHED = "NumberOfMessagesPublished"
FAILED = "NumberOfNotificationsFailed"
# The window the dead man's switch alarm watches: two heartbeat periods.
WINDOW = datetime.timedelta(minutes=2 * WATCHDOG_REPEAT_MINUTES)
PERIOD_SECONDS = 60  # SNS reports its metrics every minute
# Any error the workspace's Alertmanager logs: failed notifications (SNS:Publish or KMS refused) among them.
ERROR_PATTERN = (
    '{ ($.component = "alertmanager") && (($.message.level = "ERROR") || ($.message.level = "error")) }'
)
MESSAGE_MAX = 300


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Topics:
    watchdog_arn: str
    alert_arns: Sequence[str]  # the page and ticket topics

    @property
    def all_arns(self) -> list[str]:
        return [self.watchdog_arn, *self.alert_arns]


def topic_name(arn: str) -> str:
    """`arn:aws:sns:<region>:<account>:<name>` → `<name>`, the metrics' `TopicName` dimension."""
    return arn.rsplit(":", 1)[-1]


def metric_queries(topics: Topics) -> list[dict[str, Any]]:
    """Messages published to the watchdog topic, and failed deliveries of every alert topic, per minute."""

    def query(query_id: str, metric: str, arn: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TopicName", "Value": topic_name(arn)}],
                },
                "Period": PERIOD_SECONDS,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }

    return [query("published", PUBLISHED, topics.watchdog_arn)] + [
        query(f"failed{i}", FAILED, arn) for i, arn in enumerate(topics.all_arns)
    ]


def read_metrics(cloudwatch: Any, topics: Topics, now: datetime.datetime) -> dict[str, float] | str:
    """Each query's sum over the window (an absent metric sums to 0), or why it could not be read."""
    sums: dict[str, float] = {}
    request: dict[str, Any] = {
        "MetricDataQueries": metric_queries(topics),
        "StartTime": now - WINDOW,
        "EndTime": now,
    }
    try:
        while True:
            response = cloudwatch.get_metric_data(**request)
            for result in response["MetricDataResults"]:
                sums[result["Id"]] = sums.get(result["Id"], 0.0) + sum(result.get("Values", []))
            if not response.get("NextToken"):
                return sums
            request["NextToken"] = response["NextToken"]
    except (ClientError, BotoCoreError) as error:
        return f"CloudWatch GetMetricData: {error}"


def check_sns(
    cloudwatch: Any,
    topics: Topics,
    deadline: Deadline,
    now: Callable[[], datetime.datetime] = utc_now,
) -> list[Result]:
    """Polls until the heartbeat shows in the watchdog topic's metric (or the deadline passes), then reads
    the failed deliveries of every alert topic from the same answer."""
    minutes = int(WINDOW.total_seconds() // 60)
    sums = deadline.poll(
        lambda: read_metrics(cloudwatch, topics, now()),
        lambda found: isinstance(found, dict) and found.get("published", 0) > 0,
    )
    if isinstance(sums, str):
        return [Result(HEARTBEAT, False, sums), Result(FAILURES, False, sums)]
    published = int(sums.get("published", 0))
    watchdog = topic_name(topics.watchdog_arn)
    if published:
        heartbeat = Result(HEARTBEAT, True, f"{published} published to {watchdog} in the last {minutes} min")
    else:
        heartbeat = Result(
            HEARTBEAT,
            False,
            f"nothing published to {watchdog} in the last {minutes} min: AMP's Alertmanager did not deliver "
            "Watchdog (rule not firing, or SNS/KMS refused the publish: see the Alertmanager log check)",
        )
    failed = {topic_name(arn): int(sums.get(f"failed{i}", 0)) for i, arn in enumerate(topics.all_arns)}
    failing = {name: count for name, count in failed.items() if count}
    if failing:
        detail = ", ".join(f"{name}: {count} failed" for name, count in failing.items())
        failures = Result(FAILURES, False, f"{detail} in the last {minutes} min (subscriptions' endpoints)")
    else:
        names = ", ".join(failed)
        failures = Result(FAILURES, True, f"no failed delivery in the last {minutes} min: {names}")
    return [heartbeat, failures]


def check_alertmanager_log(
    logs: Any, log_group: str, now: Callable[[], datetime.datetime] = utc_now
) -> Result:
    """The first Alertmanager error in the window, if any (one page of matches is enough to fail)."""
    end = now()
    request: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": int((end - WINDOW).timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000),
        "filterPattern": ERROR_PATTERN,
    }
    minutes = int(WINDOW.total_seconds() // 60)
    try:
        while True:
            response = logs.filter_log_events(**request)
            events = response.get("events", [])
            if events:
                first = events[0]
                at = datetime.datetime.fromtimestamp(first["timestamp"] / 1000, datetime.UTC)
                message = " ".join(str(first.get("message", "")).split())[:MESSAGE_MAX].rstrip()
                return Result(
                    ALERTMANAGER_LOG,
                    False,
                    f"{log_group} has Alertmanager errors in the last {minutes} min, first at "
                    f"{at:%Y-%m-%dT%H:%M:%SZ}: {message}",
                )
            if not response.get("nextToken"):
                return Result(
                    ALERTMANAGER_LOG, True, f"no Alertmanager error in {log_group} in the last {minutes} min"
                )
            request["nextToken"] = response["nextToken"]
    except (ClientError, BotoCoreError) as error:
        return Result(ALERTMANAGER_LOG, False, f"CloudWatch Logs FilterLogEvents on {log_group}: {error}")
