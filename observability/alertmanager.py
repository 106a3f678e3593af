"""The AMP Alertmanager definition: routes by severity to SNS topics, grouping, inhibition, Watchdog.

AMP's definition has two root keys: `alertmanager_config` (the standard Alertmanager configuration, as a
YAML string) and `template_files` (template name -> text; the config lists the names under `templates`).
Topic ARNs may be CDK tokens: they are rendered as strings here and resolved by CloudFormation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from config.alerting import AlertingConfig
from observability import conventions as c

PAGE_RECEIVER = "page"
TICKET_RECEIVER = "ticket"
WATCHDOG_RECEIVER = "watchdog"
WATCHDOG_ALERT = "Watchdog"
TEMPLATE = "notifications"
# Every notification of a group names these; a group never mixes teams, SLOs, services or namespaces.
GROUP_BY = ("alertname", c.SEVERITY_LABEL, c.TEAM_LABEL, c.SLO_LABEL, c.SERVICE_LABEL, "namespace")
# A page silences the ticket about the same thing: same SLO, or else the same alert on the same target;
# never across teams (`team` is equal, or absent on both: the platform's own alerts).
SLO_INHIBIT_EQUAL = ("cluster", c.TEAM_LABEL, c.SLO_LABEL, c.SERVICE_LABEL)
INHIBIT_EQUAL = (
    "alertname", "cluster", "namespace", "job", "instance", c.TEAM_LABEL, c.SERVICE_LABEL, c.SLO_LABEL
)  # fmt: skip
# Watchdog always fires: a heartbeat every 30 min lets a dead man's switch notice when it stops. The one
# source of the heartbeat's period: the CloudWatch alarm on the watchdog topic waits twice as long.
WATCHDOG_REPEAT_MINUTES = 30
WATCHDOG_REPEAT_INTERVAL = f"{WATCHDOG_REPEAT_MINUTES}m"
# Alertmanager repeats a notification only on a group_interval tick, so the heartbeat's period is the repeat
# interval rounded up to the next tick: pinned here (Alertmanager's default), whatever alerting.group_interval
# says, it stays under 35 min.
WATCHDOG_GROUP_INTERVAL = "5m"
SUBJECT_MAX = 100  # SNS's limit; non-ASCII or control characters make SNS replace the whole subject

# Go templates. `clean` keeps printable ASCII without `"` and `\` (so the subject is also safe inside
# JSON); `json` escapes a value for a JSON string.
_CLEAN = r'reReplaceAll "[^ -~]|[\"\\\\]" "?" | reReplaceAll " +" " " | reReplaceAll " $" ""'
_JSON = r'reReplaceAll "([\"\\\\])" "\\$1" | reReplaceAll "\n" "\\n" | reReplaceAll "[\\x00-\\x1f]" " "'
TEMPLATES = (
    '{{ define "amp.subject" }}{{ printf "[%s:%d] %s %s %s %s" (.Status | toUpper) (.Alerts.Firing | len)'
    " .CommonLabels.severity .CommonLabels.alertname .CommonLabels.sloth_id .CommonLabels.environment"
    f' | {_CLEAN} | reReplaceAll "^(.{{0,{SUBJECT_MAX}}}).*$" "$1" }}}}{{{{ end }}}}\n'
    '{{ define "amp.message" }}{{ .Status | toUpper }}: {{ .Alerts.Firing | len }} firing,'
    " {{ .Alerts.Resolved | len }} resolved\n"
    "{{ range .Alerts }}\n[{{ .Status }}] {{ .Labels.alertname }} ({{ .Labels.severity }})\n"
    "{{ .Annotations.summary }}\n{{ .Annotations.description }}\n"
    "Runbook: {{ .Annotations.runbook_url }}\n"
    "Labels: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}\n"
    "Since: {{ .StartsAt }}\n{{ end }}{{ end }}\n"
    # AWS Chatbot shows only its own formats: a custom notification (version 1.0, source custom).
    '{{ define "amp.chat" }}{"version":"1.0","source":"custom","content":{"textType":"client-markdown",'
    '"title":"{{ template "amp.subject" . }}","description":"{{ range .Alerts }}'
    f"*[{{{{ .Status }}}}] {{{{ .Labels.alertname | {_JSON} }}}}* {{{{ .Annotations.summary | {_JSON} }}}}\\n"
    f"{{{{ .Annotations.description | {_JSON} }}}}\\n"
    f"Runbook: {{{{ .Annotations.runbook_url | {_JSON} }}}}\\n{{{{ end }}}}"
    '"}}{{ end }}\n'
)


@dataclass(frozen=True, kw_only=True)
class TeamTopics:
    """One team's SNS topic ARNs; `chat` only when the team has a chat channel."""

    page: str
    ticket: str
    chat: str | None = None


@dataclass(frozen=True, kw_only=True)
class Topics:
    """SNS topic ARNs (literal or CDK tokens); `chat` only when a chat channel is configured. `teams`: each
    team's own topics, by team name (the `team` label of its services' alerts)."""

    page: str
    ticket: str
    watchdog: str
    chat: str | None = None
    teams: Mapping[str, TeamTopics] = field(default_factory=dict)


def team_receiver(team: str, severity: str) -> str:
    return f"{team}-{severity}"


def _sns(topic_arn: str, region: str, *, message: str, send_resolved: bool = True) -> dict[str, Any]:
    return {
        "topic_arn": topic_arn,
        "sigv4": {"region": region},
        "subject": '{{ template "amp.subject" . }}',
        "message": f'{{{{ template "{message}" . }}}}',
        "send_resolved": send_resolved,
    }


def _receiver(name: str, topic_arn: str, chat: str | None, region: str) -> dict[str, Any]:
    configs = [_sns(topic_arn, region, message="amp.message")]
    if chat is not None:
        configs.append(_sns(chat, region, message="amp.chat"))
    return {"name": name, "sns_configs": configs}


def _team_route(team: str, alerting: AlertingConfig) -> dict[str, Any]:
    """A team's alerts (its services' SLO alerts carry its name) go to its own topics, by severity."""
    page, ticket = (team_receiver(team, severity) for severity in (c.PAGE, c.TICKET))
    return {
        "receiver": ticket,
        "matchers": [_matcher(c.TEAM_LABEL, team)],
        "routes": [
            {
                "receiver": page,
                "matchers": [_matcher(c.SEVERITY_LABEL, c.PAGE)],
                "repeat_interval": alerting.repeat_interval,
            },
            {"receiver": ticket, "matchers": [_matcher(c.SEVERITY_LABEL, c.TICKET)]},
        ],
    }


def _matcher(label: str, value: str) -> str:
    return f'{label}="{value}"'


def alertmanager_config(*, alerting: AlertingConfig, region: str, topics: Topics) -> dict[str, Any]:
    """The standard Alertmanager configuration (as a dict) AMP runs."""
    page, ticket = _matcher(c.SEVERITY_LABEL, c.PAGE), _matcher(c.SEVERITY_LABEL, c.TICKET)
    has_slo = f'{c.SLO_LABEL}=~".+"'
    return {
        "templates": [TEMPLATE],
        "route": {
            # Anything without a known severity still reaches a person, as a ticket.
            "receiver": TICKET_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": alerting.group_wait,
            "group_interval": alerting.group_interval,
            "repeat_interval": alerting.ticket_repeat_interval,
            "routes": [
                {
                    "receiver": WATCHDOG_RECEIVER,
                    "matchers": [_matcher("alertname", WATCHDOG_ALERT), _matcher(c.SEVERITY_LABEL, c.NONE)],
                    "group_wait": "0s",
                    "group_interval": WATCHDOG_GROUP_INTERVAL,
                    "repeat_interval": WATCHDOG_REPEAT_INTERVAL,
                },
                *(_team_route(team, alerting) for team in sorted(topics.teams)),
                {"receiver": PAGE_RECEIVER, "matchers": [page], "repeat_interval": alerting.repeat_interval},
                {"receiver": TICKET_RECEIVER, "matchers": [ticket]},
            ],
        },
        "inhibit_rules": [
            # Burn-rate pages and tickets of one SLO, whatever their alert names.
            {
                "source_matchers": [page, has_slo],
                "target_matchers": [ticket, has_slo],
                "equal": list(SLO_INHIBIT_EQUAL),
            },
            {"source_matchers": [page], "target_matchers": [ticket], "equal": list(INHIBIT_EQUAL)},
        ],
        "receivers": [
            _receiver(PAGE_RECEIVER, topics.page, topics.chat, region),
            _receiver(TICKET_RECEIVER, topics.ticket, topics.chat, region),
            *(
                _receiver(team_receiver(team, severity), arn, team_topics.chat, region)
                for team, team_topics in sorted(topics.teams.items())
                for severity, arn in ((c.PAGE, team_topics.page), (c.TICKET, team_topics.ticket))
            ),
            # The heartbeat has no chat copy: it would post to the channel every 30 minutes.
            {
                "name": WATCHDOG_RECEIVER,
                "sns_configs": [_sns(topics.watchdog, region, message="amp.message", send_resolved=False)],
            },
        ],
    }


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks, the shape AMP's documentation shows."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_BlockDumper, sort_keys=False, width=1_000_000)


def definition(*, alerting: AlertingConfig, region: str, topics: Topics) -> dict[str, Any]:
    """AMP's definition document: `alertmanager_config` as a YAML string, plus the template files."""
    config = alertmanager_config(alerting=alerting, region=region, topics=topics)
    return {
        "alertmanager_config": _dump(config),
        "template_files": {TEMPLATE: TEMPLATES},
    }


def render(document: dict[str, Any]) -> str:
    """The definition as AMP (and `AWS::APS::Workspace.AlertManagerDefinition`) takes it: YAML text."""
    return _dump(document)
