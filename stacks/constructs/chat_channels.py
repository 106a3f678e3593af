"""AWS Chatbot channels (Slack, Microsoft Teams) that post what an alert topic receives."""

from __future__ import annotations

from typing import Any

from aws_cdk import Names
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.alerting import SlackChannel, TeamsChannel


def add_chat_channels(
    scope: Construct, *, topic: sns.Topic, slack: SlackChannel | None, teams: TeamsChannel | None
) -> None:
    """Under `scope`: a role for the channels, a guardrail, and one channel configuration per chat app."""
    # Notifications need no permissions: the channel role gets none, and the guardrail denies every
    # action, so nobody can run AWS commands from the channel.
    role = iam.Role(scope, "ChatRole", assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"))
    guardrail = iam.ManagedPolicy(
        scope,
        "ChatGuardrail",
        description="Chat channels receive alerts only: no AWS actions from chat",
        statements=[iam.PolicyStatement(effect=iam.Effect.DENY, actions=["*"], resources=["*"])],
    )
    common: dict[str, Any] = {
        "iam_role_arn": role.role_arn,
        "guardrail_policies": [guardrail.managed_policy_arn],
        "sns_topic_arns": [topic.topic_arn],
        "logging_level": "ERROR",
        "user_role_required": False,
    }
    # Required by CloudFormation; unique per account: derived from the construct path.
    name = Names.unique_resource_name(scope, max_length=120, separator="-")
    if slack is not None:
        chatbot.CfnSlackChannelConfiguration(
            scope,
            "Slack",
            configuration_name=f"{name}-slack",
            slack_workspace_id=slack.workspace_id,
            slack_channel_id=slack.channel_id,
            **common,
        )
    if teams is not None:
        chatbot.CfnMicrosoftTeamsChannelConfiguration(
            scope,
            "Teams",
            configuration_name=f"{name}-teams",
            team_id=teams.team_id,
            teams_channel_id=teams.channel_id,
            teams_tenant_id=teams.tenant_id,
            **common,
        )
