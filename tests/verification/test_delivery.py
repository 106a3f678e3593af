"""Alert delivery checks against stubbed CloudWatch and CloudWatch Logs: the Watchdog heartbeat counted on
its SNS topic, failed SNS deliveries, and Alertmanager errors in the AMP workspace's log group. One test per
reason the checks FAIL, and the bounded wait for a heartbeat still on its way."""

from __future__ import annotations

import datetime

from scripts.verification import delivery
from scripts.verification.report import Deadline, Result
from tests.verification.fakes import (
    LOG_GROUP,
    NOW,
    PAGE_TOPIC,
    TICKET_TOPIC,
    TOPIC_PREFIX,
    WATCHDOG_TOPIC,
    Aws,
    FakeClock,
)

TIMEOUT = 600.0
INTERVAL = 15.0
# The window is the dead man's switch's: twice the 30-minute Watchdog repeat interval, ending now.
WINDOW_START = datetime.datetime(2026, 11, 30, 23, 0, tzinfo=datetime.UTC)
START_MS, END_MS = 1796079600000, 1796083200000  # the same window in epoch milliseconds
TOPICS = delivery.Topics(
    watchdog_arn=TOPIC_PREFIX + WATCHDOG_TOPIC,
    alert_arns=(TOPIC_PREFIX + PAGE_TOPIC, TOPIC_PREFIX + TICKET_TOPIC),
)


def now() -> datetime.datetime:
    return NOW


def sns(aws: Aws, clock: FakeClock, timeout: float = TIMEOUT) -> dict[str, Result]:
    deadline = Deadline(clock=clock, at=clock.monotonic() + timeout, interval=INTERVAL)
    return {r.check: r for r in delivery.check_sns(aws.cloudwatch, TOPICS, deadline, now=now)}


def test_the_window_literals_agree() -> None:
    assert (int(WINDOW_START.timestamp() * 1000), int(NOW.timestamp() * 1000)) == (START_MS, END_MS)


def test_heartbeat_published_and_nothing_failed(aws: Aws, clock: FakeClock) -> None:
    aws.sns_metrics(published=[0.0, 1.0, 0.0, 1.0], start=WINDOW_START, end=NOW)

    results = sns(aws, clock)

    assert results[delivery.HEARTBEAT].ok
    assert results[delivery.HEARTBEAT].detail == f"2 published to {WATCHDOG_TOPIC} in the last 60 min"
    assert results[delivery.FAILURES].ok
    assert results[delivery.FAILURES].detail == (
        f"no failed delivery in the last 60 min: {WATCHDOG_TOPIC}, {PAGE_TOPIC}, {TICKET_TOPIC}"
    )
    assert clock.sleeps == []
    aws.assert_done()


def test_a_heartbeat_on_its_way_is_waited_for(aws: Aws, clock: FakeClock) -> None:
    aws.sns_metrics(published=[])  # a fresh topic: no data point yet
    aws.sns_metrics(published=[0.0])
    aws.sns_metrics(published=[1.0])

    results = sns(aws, clock)

    assert results[delivery.HEARTBEAT].ok
    assert clock.sleeps == [INTERVAL, INTERVAL]
    aws.assert_done()


def test_no_heartbeat_fails_after_the_bounded_wait(aws: Aws, clock: FakeClock) -> None:
    polls = int(TIMEOUT // INTERVAL) + 1
    for _ in range(polls):
        aws.sns_metrics(published=[])

    results = sns(aws, clock)

    heartbeat = results[delivery.HEARTBEAT]
    assert not heartbeat.ok
    assert heartbeat.detail.startswith(f"nothing published to {WATCHDOG_TOPIC} in the last 60 min")
    assert "SNS/KMS refused the publish" in heartbeat.detail
    assert results[delivery.FAILURES].ok  # nothing failed either: nothing was sent
    assert clock.now <= TIMEOUT
    aws.assert_done()


def test_failed_deliveries_fail_with_the_topic_and_count(aws: Aws, clock: FakeClock) -> None:
    aws.sns_metrics(published=[1.0], failed={"failed1": [2.0, 1.0]})

    results = sns(aws, clock)

    assert results[delivery.HEARTBEAT].ok
    failures = results[delivery.FAILURES]
    assert not failures.ok
    assert failures.detail == f"{PAGE_TOPIC}: 3 failed in the last 60 min (subscriptions' endpoints)"


def test_metrics_across_pages_are_summed(aws: Aws, clock: FakeClock) -> None:
    aws.sns_metrics(published=[], next_token="page-2")
    aws.sns_metrics(published=[1.0], failed={"failed2": [1.0]}, token="page-2")

    results = sns(aws, clock)

    assert results[delivery.HEARTBEAT].ok
    assert results[delivery.FAILURES].detail.startswith(f"{TICKET_TOPIC}: 1 failed")
    assert clock.sleeps == []
    aws.assert_done()


def test_metrics_unreadable_fail_both_sns_checks(aws: Aws, clock: FakeClock) -> None:
    aws.sns_metrics_error("AccessDenied", "not authorized to perform: cloudwatch:GetMetricData")

    results = sns(aws, clock, timeout=0)

    for check in (delivery.HEARTBEAT, delivery.FAILURES):
        assert not results[check].ok
        assert results[check].detail.startswith("CloudWatch GetMetricData: ")
        assert "AccessDenied" in results[check].detail


def test_alertmanager_log_without_errors_passes(aws: Aws) -> None:
    aws.alertmanager_log(start=START_MS, end=END_MS)

    result = delivery.check_alertmanager_log(aws.logs, LOG_GROUP, now=now)

    assert result.ok
    assert result.detail == f"no Alertmanager error in {LOG_GROUP} in the last 60 min"
    aws.assert_done()


def test_a_publish_error_in_the_log_fails_with_its_text(aws: Aws) -> None:
    """AMP's log event when a topic policy refuses the publish (Troubleshooting-alerting-no-policy)."""
    event = (
        '{"workspaceId":"ws-0a1b2c3d","message":{"log":"Notify for alerts failed, AMP is not authorized to '
        "perform: SNS:Publish on resource: arn:aws:sns:eu-west-1:123456789012:page because no "
        'resource-based policy allows the SNS:Publish action","level":"ERROR"},"component":"alertmanager"}'
    )
    at_ms = START_MS + 30 * 60 * 1000
    aws.alertmanager_log(
        [{"logStreamName": "alertmanager", "timestamp": at_ms, "message": event, "eventId": "1"}],
        start=START_MS,
        end=END_MS,
    )

    result = delivery.check_alertmanager_log(aws.logs, LOG_GROUP, now=now)

    assert not result.ok
    assert result.detail.startswith(
        f"{LOG_GROUP} has Alertmanager errors in the last 60 min, first at 2026-11-30T23:30:00Z: "
    )
    assert "AMP is not authorized to perform: SNS:Publish" in result.detail


def test_an_error_on_a_later_page_of_matches_is_found(aws: Aws) -> None:
    aws.alertmanager_log([], next_token="more")
    aws.alertmanager_log(
        [{"logStreamName": "s", "timestamp": START_MS, "message": "KMS AccessDenied", "eventId": "2"}],
        token="more",
    )

    result = delivery.check_alertmanager_log(aws.logs, LOG_GROUP, now=now)

    assert not result.ok
    assert result.detail.endswith("first at 2026-11-30T23:00:00Z: KMS AccessDenied")
    aws.assert_done()


def test_a_missing_log_group_fails(aws: Aws) -> None:
    aws.alertmanager_log_error("ResourceNotFoundException", "The specified log group does not exist.")

    result = delivery.check_alertmanager_log(aws.logs, LOG_GROUP, now=now)

    assert not result.ok
    assert result.detail.startswith(f"CloudWatch Logs FilterLogEvents on {LOG_GROUP}: ")
    assert "ResourceNotFoundException" in result.detail


def test_a_long_log_message_is_cut_to_one_short_line(aws: Aws) -> None:
    aws.alertmanager_log(
        [{"logStreamName": "s", "timestamp": START_MS, "message": "x\n" * 400, "eventId": "3"}]
    )

    result = delivery.check_alertmanager_log(aws.logs, LOG_GROUP, now=now)

    assert "\n" not in result.detail
    assert result.detail.endswith(" ".join(["x"] * 150))
