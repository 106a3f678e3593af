"""SNS topics the AMP workspace's Alertmanager publishes to, with email and optional chat delivery, and the
dead man's switch on the Watchdog heartbeat.

Standard topics (AMP refuses FIFO), encrypted with our own key: the AWS-managed SNS key's policy cannot
let `aps.amazonaws.com` (or CloudWatch alarms) use it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Duration, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from config.alerting import AlertingConfig, TeamChannels
from observability import conventions
from observability.alertmanager import WATCHDOG_ALERT, Topics
from stacks.constructs.chat_channels import add_chat_channels
from stacks.constructs.dead_mans_switch import CLOUDWATCH, DeadMansSwitch
from stacks.constructs.team_alert_topics import TeamAlertTopics
from stacks.key_deletion import SHORTEST_KEY_DELETION_WINDOW
from stacks.naming import construct_id

APS = "aps.amazonaws.com"
# What the key policy lets an AWS service that publishes to an SSE topic do: the statement the SNS
# developer guide gives for event sources from AWS services, without conditions
# (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
SNS_EVENT_SOURCE_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
NO_PAGE_SUBSCRIBER_WARNING_ID = "platform:pagesReachNoOne"
NO_PAGE_SUBSCRIBER_WARNING = (
    "Pages reach no one: alerting.page_emails is empty and no Slack or Teams channel is set, so the page "
    "topic has no subscription. Set alerting.page_emails (or alerting.slack / alerting.teams) in this "
    "environment's config, or subscribe your on-call tool to the AlertPageTopicArn output after deploy."
)


class AlertNotifications(Construct):
    """Create it before the workspace (whose Alertmanager definition names the topics), then call
    `allow_publish_from(workspace_arn)`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alerting: AlertingConfig,
        heartbeat_silence: Duration,
        teams: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        # SNS keeps no message once delivered, so nothing outlives the topics encrypted under this key: it
        # goes with them.
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the alert notification topics",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=SHORTEST_KEY_DELETION_WINDOW,
        )
        # AMP's Alertmanager and the dead man's switch alarm publish to these SSE topics, and SNS uses the key
        # on their behalf. The key statements are the ones the SNS guide gives for AWS-service event sources,
        # without conditions: a source condition the SNS-to-KMS request does not carry would fail every
        # publish (AMP's own page puts its confused-deputy conditions on the topic policy). The topic
        # policies confine who may publish (this workspace, this alarm, this account); the key policy cannot
        # name the topics (they reference the key: a dependency cycle).
        for sid, service in (("AllowAmpAlertmanager", APS), ("AllowCloudWatchAlarms", CLOUDWATCH)):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=list(SNS_EVENT_SOURCE_KEY_ACTIONS),
                    resources=["*"],  # in a key policy, "*" is this key
                )
            )

        def topic(scope: Construct, id_: str, display_name: str) -> sns.Topic:
            return sns.Topic(scope, id_, display_name=display_name, master_key=self.key, enforce_ssl=True)

        # A team's topics get their whole policy (TLS only and AMP's publish) from `allow_publish_from`, in
        # a nested stack after the workspace: the topics' own stack must not depend on the workspace, whose
        # Alertmanager definition names them.
        def team_topic(scope: Construct, id_: str, display_name: str) -> sns.Topic:
            return sns.Topic(scope, id_, display_name=display_name, master_key=self.key)

        self.page_topic = topic(self, "PageTopic", "Alerts: page")
        self.ticket_topic = topic(self, "TicketTopic", "Alerts: ticket")
        # Watchdog's heartbeat: no subscription; the alarm below (and any external switch) watches it.
        self.watchdog_topic = topic(self, "WatchdogTopic", "Alerts: watchdog heartbeat")
        for email in alerting.page_emails:
            self.page_topic.add_subscription(subscriptions.EmailSubscription(email))
        for email in alerting.ticket_emails:
            self.ticket_topic.add_subscription(subscriptions.EmailSubscription(email))

        # Chat gets its own topic: AWS Chatbot shows only its custom-notification JSON, which would be
        # unreadable in email, so Alertmanager sends pages and tickets here a second time in that format.
        self.chat_topic: sns.Topic | None = None
        if alerting.slack is not None or alerting.teams is not None:
            self.chat_topic = topic(self, "ChatTopic", "Alerts: chat")
            add_chat_channels(self, topic=self.chat_topic, slack=alerting.slack, teams=alerting.teams)
        if not alerting.page_emails and self.chat_topic is None:
            Annotations.of(self).add_warning_v2(NO_PAGE_SUBSCRIBER_WARNING_ID, NO_PAGE_SUBSCRIBER_WARNING)

        # Each team's own page and ticket topics: its services' alerts carry its name (services/teams.yaml).
        self.teams = {
            team: TeamAlertTopics(
                self,
                f"Team{construct_id(team)}",
                team=team,
                channels=alerting.team_channels.get(team, TeamChannels()),
                topic=team_topic,
            )
            for team in teams
        }

        # Pages the page topic's subscribers (and the chat channel: AWS Chatbot shows CloudWatch alarms as
        # they are) when the heartbeat stops, by a path without AMP in it.
        self.dead_mans_switch = DeadMansSwitch(
            self,
            "DeadMansSwitch",
            heartbeat=self.watchdog_topic,
            notify=[self.page_topic] + ([self.chat_topic] if self.chat_topic else []),
            silence=heartbeat_silence,
            runbook_url=conventions.runbook_url(alerting.runbook_base_url, WATCHDOG_ALERT),
        )

    @property
    def platform_topics(self) -> list[sns.Topic]:
        topics = [self.page_topic, self.ticket_topic, self.watchdog_topic]
        return topics + ([self.chat_topic] if self.chat_topic else [])

    @property
    def all_topics(self) -> list[sns.Topic]:
        return self.platform_topics + [topic for team in self.teams.values() for topic in team.all_topics]

    @property
    def topics(self) -> Topics:
        """The topic ARNs (tokens) for the Alertmanager definition."""
        return Topics(
            page=self.page_topic.topic_arn,
            ticket=self.ticket_topic.topic_arn,
            watchdog=self.watchdog_topic.topic_arn,
            chat=self.chat_topic.topic_arn if self.chat_topic else None,
            teams={name: team.topics for name, team in self.teams.items()},
        )

    def allow_publish_from(self, workspace_arn: str) -> None:
        """Let this workspace's Alertmanager, and only it, publish to every topic (confused-deputy guard)."""

        def amp_may_publish(topic: sns.ITopic) -> iam.PolicyStatement:
            return iam.PolicyStatement(
                sid="AllowAmpAlertmanager",
                principals=[iam.ServicePrincipal(APS)],
                actions=["sns:Publish", "sns:GetTopicAttributes"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnEquals": {"aws:SourceArn": workspace_arn},
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                },
            )

        for topic in self.platform_topics:
            topic.add_to_resource_policy(amp_may_publish(topic))
        # Each team's topic policies: a nested stack per team, created after the workspace.
        for team, topics in self.teams.items():
            policies = NestedStack(
                self, f"{topics.node.id}Policies", description=f"Alert topic policies of the {team} team"
            )
            for topic in topics.all_topics:
                sns.TopicPolicy(
                    policies,
                    topic.node.id,
                    topics=[topic],
                    enforce_ssl=True,
                    policy_document=iam.PolicyDocument(statements=[amp_may_publish(topic)]),
                )
