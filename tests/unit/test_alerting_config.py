"""Alerting configuration: every bad value is refused with one line naming the field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from config import ConfigError, environment_config
from config.alerting import (
    PLACEHOLDER_RUNBOOK_BASE_URL,
    AlertingConfig,
    SlackChannel,
    TeamChannels,
    TeamsChannel,
    duration_seconds,
)

TEAM = "5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
CHANNEL = "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2"

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "http runbook URL": (
        {"runbook_base_url": "http://example.com/runbooks"},
        "alerting.runbook_base_url: must be",
    ),
    "bad email": (
        {"page_emails": ("oncall",)},
        "alerting.page_emails: must be email addresses (got ['oncall'])",
    ),
    "repeated email": (
        {"ticket_emails": ("a@example.com", "a@example.com")},
        "alerting.ticket_emails: must not repeat",
    ),
    "Slack workspace id": (
        {"slack": SlackChannel(workspace_id="t0123", channel_id="C0123")},
        "alerting.slack.workspace_id: must be upper-case letters/digits (got 't0123')",
    ),
    "Slack channel id": (
        {"slack": SlackChannel(workspace_id="T0123", channel_id="#alerts")},
        "alerting.slack.channel_id: must be letters and digits",
    ),
    "Teams team id": (
        {"teams": TeamsChannel(team_id="team", channel_id=CHANNEL, tenant_id=TEAM)},
        "alerting.teams.team_id: must be a GUID (got 'team')",
    ),
    "Teams tenant id": (
        {"teams": TeamsChannel(team_id=TEAM, channel_id=CHANNEL, tenant_id=TEAM[:-1])},
        "alerting.teams.tenant_id: must be a GUID",
    ),
    "Teams channel id": (
        {"teams": TeamsChannel(team_id=TEAM, channel_id="General", tenant_id=TEAM)},
        "alerting.teams.channel_id: must be like '19%3a...%40thread.tacv2'",
    ),
    "bad duration": ({"group_wait": "30 seconds"}, "alerting.group_wait: must be a duration"),
    "zero duration": ({"group_interval": "0s"}, "alerting.group_interval: must be a duration"),
    "repeat above AMP's cap": ({"repeat_interval": "6d"}, "alerting.repeat_interval: must be at most 5d"),
    "ticket repeat above AMP's cap": (
        {"ticket_repeat_interval": "5d1h"},
        "alerting.ticket_repeat_interval: must be at most 5d",
    ),
    "runbook URL with a space": (
        {"runbook_base_url": "https://example.com/run books"},
        "alerting.runbook_base_url: must be",
    ),
    "runbook URL without a host": (
        {"runbook_base_url": "https:///runbooks"},
        "alerting.runbook_base_url: must be",
    ),
    "bad team email": (
        {"team_channels": {"orders": TeamChannels(page_emails=("oncall",))}},
        "alerting.team_channels.orders.page_emails: must be email addresses (got ['oncall'])",
    ),
    "repeat below group interval": (
        {"repeat_interval": "1m"},
        "alerting.repeat_interval: must be at least group_interval '5m' (got '1m')",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_platform_config_refuses_with_one_line_naming_the_field(case):
    overrides, message = INVALID[case]
    dev = environment_config("dev")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(dev, alerting=AlertingConfig(**overrides))
    assert error.value.problems == [next(p for p in error.value.problems if message in p)]


def test_both_repeat_intervals_are_checked_when_the_first_is_malformed():
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(
            environment_config("dev"),
            alerting=AlertingConfig(repeat_interval="often", ticket_repeat_interval="6d"),
        )
    assert error.value.problems == [
        "alerting.repeat_interval: must be a duration like '30s', '5m', '4h', '1d' (got 'often')",
        "alerting.ticket_repeat_interval: must be at most 5d, AMP's cap (got '6d')",
    ]


def test_repeats_as_long_as_the_group_interval_and_as_amps_cap_are_accepted():
    alerting = AlertingConfig(group_interval="5m", repeat_interval="5m", ticket_repeat_interval="5d")
    assert dataclasses.replace(environment_config("dev"), alerting=alerting).alerting == alerting


def test_defaults_are_valid_and_within_amp_limits():
    alerting = environment_config("dev").alerting
    assert alerting == AlertingConfig()
    assert alerting.runbook_base_url == PLACEHOLDER_RUNBOOK_BASE_URL
    assert alerting.problems() == []


def test_a_full_configuration_is_valid():
    alerting = AlertingConfig(
        runbook_base_url="https://git.example.com/platform/blob/main/docs/runbooks/",
        page_emails=("oncall@example.com",),
        ticket_emails=("team@example.com",),
        slack=SlackChannel(workspace_id="T0123ABCD", channel_id="C0123ABCD"),
        teams=TeamsChannel(team_id=TEAM, channel_id=CHANNEL, tenant_id=TEAM),
        group_wait="1m",
        group_interval="10m",
        repeat_interval="5d",
        ticket_repeat_interval="1d12h",
    )
    assert alerting.problems() == []


def test_alerting_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AlertingConfig().group_wait = "1s"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1m30s", 90), ("1d2h3m4s", 93784), ("0s", None), ("", None), ("5", None)],
)
def test_a_duration_is_the_sum_of_its_parts_in_seconds(text, seconds):
    assert duration_seconds(text) == seconds


def test_a_bad_slack_channel_is_reported_when_a_teams_channel_is_set_too():
    config = AlertingConfig(
        slack=SlackChannel(workspace_id="t0123", channel_id="C0123"),
        teams=TeamsChannel(team_id=TEAM, channel_id=CHANNEL, tenant_id=TEAM),
    )
    assert config.problems() == [
        "alerting.slack.workspace_id: must be upper-case letters/digits (got 't0123')"
    ]
