"""A dead man's switch inside AWS: a CloudWatch alarm that pages when the Watchdog heartbeat stops reaching
its SNS topic. It reads SNS's own metric and notifies through CloudWatch, so it still works when the AMP
workspace, its rules or its Alertmanager do not.

`NumberOfMessagesPublished` (namespace `AWS/SNS`, dimension `TopicName`) counts the messages published to
the topic: https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html. A silent topic
reports no data points at all, so missing data counts as breaching.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

CLOUDWATCH = "cloudwatch.amazonaws.com"
# The alarm looks at the heartbeats in 5-minute buckets: it fires when every bucket of the silence was empty.
PERIOD = Duration.minutes(5)


class DeadMansSwitch(Construct):
    """Alarm (and OK) to each `notify` topic when `heartbeat` has published nothing for `silence`.

    The `notify` topics are SSE-encrypted with a customer-managed key: its key policy must let
    `cloudwatch.amazonaws.com` use it (AlertNotifications does)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        heartbeat: sns.ITopic,
        notify: Sequence[sns.ITopic],
        silence: Duration,
        runbook_url: str,
    ) -> None:
        super().__init__(scope, id_)
        silence_minutes, period_minutes = silence.to_minutes(), PERIOD.to_minutes()
        if silence_minutes % period_minutes:
            raise ValueError(
                f"silence must be a multiple of {period_minutes} minutes (got {silence_minutes})"
            )
        periods = silence_minutes // period_minutes
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_description=(
                f"Dead man's switch: no Watchdog heartbeat reached the watchdog topic for {silence_minutes} "
                "minutes. AMP alerting (rules, Alertmanager or its SNS delivery) is broken: no alert reaches "
                f"anyone. Runbook: {runbook_url}"
            ),
            metric=heartbeat.metric_number_of_messages_published(period=PERIOD, statistic="Sum"),
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            threshold=1,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for topic in notify:
            action = cloudwatch_actions.SnsAction(topic)
            self.alarm.add_alarm_action(action)
            self.alarm.add_ok_action(action)
            # The topic policy replaces SNS's default one, so CloudWatch needs its own statement: this alarm
            # only (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowDeadMansSwitchAlarm",
                    principals=[iam.ServicePrincipal(CLOUDWATCH)],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": self.alarm.alarm_arn},
                        "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    },
                )
            )
