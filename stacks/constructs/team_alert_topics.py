"""One team's alert topics: pages and tickets of its services' SLOs go here, not to the platform's
topics. Subscriptions come from the environment's `alerting.team_channels[<team>]`.

A nested stack of its own (its id from the team's name, so a team's topics never move): a team costs its
parent one resource instead of four to seven (topics, topic policies, subscriptions, chat channels), and
the monitoring stack stays under CloudFormation's 500 resources with a hundred teams and more."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Annotations, NestedStack
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from config.alerting import TeamChannels
from observability.alertmanager import TeamTopics
from stacks.constructs.chat_channels import add_chat_channels

NO_TEAM_PAGE_SUBSCRIBER_WARNING_ID = "platform:teamPagesReachNoOne"


class TeamAlertTopics(NestedStack):
    """`topic(scope, id, display name)` makes a topic like the platform's own (same key and policies)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        team: str,
        channels: TeamChannels,
        topic: Callable[[Construct, str, str], sns.Topic],
    ) -> None:
        super().__init__(scope, id_, description=f"Alert topics of the {team} team")
        self.page_topic = topic(self, "PageTopic", f"Alerts: {team} page")
        self.ticket_topic = topic(self, "TicketTopic", f"Alerts: {team} ticket")
        for email in channels.page_emails:
            self.page_topic.add_subscription(subscriptions.EmailSubscription(email))
        for email in channels.ticket_emails:
            self.ticket_topic.add_subscription(subscriptions.EmailSubscription(email))
        self.chat_topic: sns.Topic | None = None
        if channels.slack is not None or channels.teams is not None:
            self.chat_topic = topic(self, "ChatTopic", f"Alerts: {team} chat")
            add_chat_channels(self, topic=self.chat_topic, slack=channels.slack, teams=channels.teams)
        if not channels.page_emails and self.chat_topic is None:
            Annotations.of(self).add_warning_v2(
                NO_TEAM_PAGE_SUBSCRIBER_WARNING_ID,
                f"The {team} team's pages reach no one: set alerting.team_channels[{team!r}] (page_emails, "
                f"slack or teams) in this environment's config, or subscribe its on-call tool to its page "
                f"topic after deploy.",
            )

    @property
    def all_topics(self) -> list[sns.Topic]:
        return [self.page_topic, self.ticket_topic] + ([self.chat_topic] if self.chat_topic else [])

    @property
    def topics(self) -> TeamTopics:
        return TeamTopics(
            page=self.page_topic.topic_arn,
            ticket=self.ticket_topic.topic_arn,
            chat=self.chat_topic.topic_arn if self.chat_topic else None,
        )
