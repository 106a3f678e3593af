"""Where alerts go: runbook links, notification addresses, chat channels and Alertmanager's timing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A placeholder: set it to where your copy of this repository serves docs/runbooks (e.g. a git host's
# `blob/<branch>/docs/runbooks` URL). Every alert's `runbook_url` is `<base>/<AlertName>.md`.
PLACEHOLDER_RUNBOOK_BASE_URL = "https://github.com/example-org/eks-observability/blob/main/docs/runbooks"
# AMP treats a larger repeat_interval as 5 days (AMP-alertmanager-config.html).
MAX_REPEAT_SECONDS = 5 * 24 * 3600

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Patterns of the CloudFormation schemas of AWS::Chatbot::SlackChannelConfiguration and
# AWS::Chatbot::MicrosoftTeamsChannelConfiguration (cfn-lint 1.58.0).
SLACK_WORKSPACE_ID = re.compile(r"^[0-9A-Z]{1,255}$")
SLACK_CHANNEL_ID = re.compile(r"^[A-Za-z0-9]{1,256}$")
TEAMS_GUID = re.compile(r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")  # team and tenant ids
TEAMS_CHANNEL_ID = re.compile(r"^[\w\-=+/.,]*%3[aA][\w\-=+/.,]*%40[\w\-=+/.,]*$")
# An Alertmanager duration, in the units these settings need.
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration_seconds(value: str) -> int | None:
    """`1d2h`, `5m`, `30s` → seconds; None if `value` is not such a duration or is zero."""
    match = _DURATION.match(value)
    if not value or match is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return total or None


@dataclass(frozen=True, kw_only=True)
class SlackChannel:
    """A Slack channel in a workspace already authorized in the AWS Chatbot console."""

    workspace_id: str  # e.g. T0123ABCD (console: Amazon Q Developer in chat applications)
    channel_id: str  # e.g. C0123ABCD (the end of the channel's link)


@dataclass(frozen=True, kw_only=True)
class TeamsChannel:
    """A Microsoft Teams channel of a team already authorized in the AWS Chatbot console."""

    team_id: str
    channel_id: str  # e.g. 19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class TeamChannels:
    """Where one team's alerts go: its own page and ticket topics' subscriptions (services/teams.yaml
    names the teams; a service's alerts carry its team's name)."""

    page_emails: tuple[str, ...] = ()
    ticket_emails: tuple[str, ...] = ()
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None


@dataclass(frozen=True, kw_only=True)
class AlertingConfig:
    # Where your copy of docs/runbooks is served: set it, the default is a placeholder.
    runbook_base_url: str = PLACEHOLDER_RUNBOOK_BASE_URL
    # Email subscriptions: each address must confirm the subscription from the email SNS sends.
    page_emails: tuple[str, ...] = ()
    ticket_emails: tuple[str, ...] = ()  # the ticket topic's, likewise
    slack: SlackChannel | None = None  # pages and tickets also to this Slack channel, through AWS Chatbot
    teams: TeamsChannel | None = None  # and to this Microsoft Teams channel
    # Each team's own channels, by team name: the platform's channels above get the platform's alerts.
    team_channels: Mapping[str, TeamChannels] = field(default_factory=dict)
    # Alertmanager's grouping timers: first notification of a group, then of its changes, then repeats.
    group_wait: str = "30s"
    group_interval: str = "5m"  # between notifications of a group's changes
    repeat_interval: str = "4h"  # pages
    ticket_repeat_interval: str = "1d"  # tickets; at most 5d (AMP's cap), at least group_interval

    def problems(self) -> list[str]:
        problems = []
        url = urlsplit(self.runbook_base_url)
        if url.scheme != "https" or not url.netloc or " " in self.runbook_base_url:
            problems.append(
                f"alerting.runbook_base_url: must be an https:// URL (got {self.runbook_base_url!r})"
            )
        problems.extend(_channel_problems("alerting.", self))
        for team, channels in self.team_channels.items():
            problems.extend(_channel_problems(f"alerting.team_channels.{team}.", channels))
        problems.extend(self._timing_problems())
        return problems

    def _timing_problems(self) -> list[str]:
        problems = []
        seconds = {}
        for name in ("group_wait", "group_interval", "repeat_interval", "ticket_repeat_interval"):
            value: str = getattr(self, name)
            parsed = duration_seconds(value)
            if parsed is None:
                problems.append(
                    f"alerting.{name}: must be a duration like '30s', '5m', '4h', '1d' (got {value!r})"
                )
            else:
                seconds[name] = parsed
        for name in ("repeat_interval", "ticket_repeat_interval"):
            if name not in seconds:
                continue
            if seconds[name] > MAX_REPEAT_SECONDS:
                problems.append(
                    f"alerting.{name}: must be at most 5d, AMP's cap (got {getattr(self, name)!r})"
                )
            elif seconds[name] < seconds.get("group_interval", 0):
                problems.append(
                    f"alerting.{name}: must be at least group_interval {self.group_interval!r} "
                    f"(got {getattr(self, name)!r})"
                )
        return problems


def _channel_problems(prefix: str, channels: AlertingConfig | TeamChannels) -> list[str]:
    """Email addresses and chat channel ids of the platform's or one team's channels."""
    problems = []
    for name in ("page_emails", "ticket_emails"):
        emails: tuple[str, ...] = getattr(channels, name)
        bad = [email for email in emails if not _EMAIL.match(email)]
        if bad:
            problems.append(f"{prefix}{name}: must be email addresses (got {bad!r})")
        elif len(set(emails)) != len(emails):
            problems.append(f"{prefix}{name}: must not repeat an address (got {list(emails)!r})")
    checks: list[tuple[str, str, re.Pattern[str], str]] = []
    if channels.slack is not None:
        checks += [
            (
                "slack.workspace_id",
                channels.slack.workspace_id,
                SLACK_WORKSPACE_ID,
                "upper-case letters/digits",
            ),
            ("slack.channel_id", channels.slack.channel_id, SLACK_CHANNEL_ID, "letters and digits"),
        ]
    if channels.teams is not None:
        checks += [
            ("teams.team_id", channels.teams.team_id, TEAMS_GUID, "a GUID"),
            ("teams.tenant_id", channels.teams.tenant_id, TEAMS_GUID, "a GUID"),
            (
                "teams.channel_id",
                channels.teams.channel_id,
                TEAMS_CHANNEL_ID,
                "like '19%3a...%40thread.tacv2'",
            ),
        ]
    for name, value, pattern, what in checks:
        if not pattern.match(value):
            problems.append(f"{prefix}{name}: must be {what} (got {value!r})")
    return problems
