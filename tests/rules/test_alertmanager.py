"""The AMP Alertmanager definition, checked by amtool (Debian's prometheus-alertmanager 0.25, unpacked by
scripts/system-packages.sh) and by our AMP lint.

Inhibition is checked by its rules only: Debian's unpacked Alertmanager binary looks for its default
templates under /usr/share, which only installing the package (and its service) would provide."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.alerting import AlertingConfig
from observability import alertmanager
from observability.amp_lint import lint, lint_text

REPOSITORY = Path(__file__).resolve().parents[2]
UNPACKED = REPOSITORY / ".venv/opt/prometheus-alertmanager/usr/bin"
AMTOOL = Path(os.environ.get("AMTOOL_BIN", UNPACKED / "amtool"))
TOPICS = alertmanager.Topics(
    page="arn:aws:sns:eu-west-1:123456789012:page",
    ticket="arn:aws:sns:eu-west-1:123456789012:ticket",
    watchdog="arn:aws:sns:eu-west-1:123456789012:watchdog",
    chat="arn:aws:sns:eu-west-1:123456789012:chat",
    teams={
        team: alertmanager.TeamTopics(
            page=f"arn:aws:sns:eu-west-1:123456789012:{team}-page",
            ticket=f"arn:aws:sns:eu-west-1:123456789012:{team}-ticket",
        )
        for team in ("orders", "payments")
    },
)
DEFINITION = alertmanager.definition(alerting=AlertingConfig(), region="eu-west-1", topics=TOPICS)


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    """The real amtool: a test that needs it fails (never skips) where `make system-deps` has not run."""
    assert AMTOOL.exists(), f"{AMTOOL} is missing: run `make system-deps` (it unpacks amtool)"
    return subprocess.run([str(AMTOOL), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    """AMP's layout as amtool reads it: the config, and each template file named after its key."""
    directory = tmp_path_factory.mktemp("alertmanager")
    document = yaml.safe_load(alertmanager.render(DEFINITION))
    (directory / "alertmanager.yml").write_text(document["alertmanager_config"])
    for name, text in document["template_files"].items():
        (directory / name).write_text(text)
    return directory / "alertmanager.yml"


def test_amtool_check_config_passes(config_file):
    result = amtool("check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 inhibit rules" in result.stdout
    assert "7 receivers" in result.stdout  # page, ticket, watchdog, and a page and a ticket per team
    assert "1 templates" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=page", "alertname=OrdersAvailability", "slo=orders-availability"], "page"),
        (["severity=ticket", "alertname=OrdersAvailability", "slo=orders-availability"], "ticket"),
        (["severity=none", "alertname=Watchdog"], "watchdog"),
        (["alertname=NoSeverity"], "ticket"),  # never lost: the default is a ticket
        (["severity=page", "alertname=Watchdog"], "page"),  # only the real heartbeat goes to its topic
        # A team's alerts go to its own topics, and only to them.
        (["severity=page", "alertname=OrdersApiAvailabilityBudgetBurn", "team=orders"], "orders-page"),
        (["severity=ticket", "alertname=OrdersApiAvailabilityBudgetBurn", "team=orders"], "orders-ticket"),
        (["severity=page", "alertname=PaymentsAvailability", "team=payments"], "payments-page"),
        (["alertname=PaymentsNoSeverity", "team=payments"], "payments-ticket"),
        (["severity=page", "alertname=Unrouted", "team=nobody"], "page"),  # an unknown team: the platform
    ],
)
def test_amtool_routes_each_severity_to_its_receiver(config_file, labels, receiver):
    result = amtool("config", "routes", "test", f"--config.file={config_file}", *labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def render(config_file: Path, template: str, data: dict) -> str:
    data_file = config_file.with_name("data.json")
    data_file.write_text(json.dumps(data))
    result = amtool(
        "template",
        "render",
        f"--template.glob={config_file.with_name(alertmanager.TEMPLATE)}",
        f"--template.text={{{{ template {json.dumps(template)} . }}}}",
        f"--template.data={data_file}",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def notification(alertname: str) -> dict:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": alertname, "severity": "page", "sloth_slo": "availability"},
        "annotations": {
            "summary": 'Error budget "burning" 14x',
            "description": "line 1\nline 2 with a \\ backslash",
            "runbook_url": "https://example.com/runbooks/X.md",
        },
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "1",
    }
    return {
        "receiver": "page",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {},
        "commonLabels": {**alert["labels"], "environment": "prod"},
        "commonAnnotations": {},
        "externalURL": "",
    }


@pytest.mark.parametrize("alertname", ["OrdersAvailability", "Ünïcode" + "Long" * 40])
def test_subject_is_short_printable_ascii(config_file, alertname):
    subject = render(config_file, "amp.subject", notification(alertname))
    assert subject.startswith("[FIRING:1] page ")
    assert len(subject) <= alertmanager.SUBJECT_MAX
    assert all(" " <= ch <= "~" for ch in subject)


def test_chat_message_is_a_chatbot_custom_notification(config_file):
    message = json.loads(render(config_file, "amp.chat", notification("OrdersAvailability")))
    assert message["version"] == "1.0"
    assert message["source"] == "custom"
    assert message["content"]["title"].startswith("[FIRING:1] page OrdersAvailability")
    assert 'Error budget "burning" 14x' in message["content"]["description"]
    assert "line 1\nline 2 with a \\ backslash" in message["content"]["description"]


def test_email_message_carries_summary_description_and_runbook(config_file):
    message = render(config_file, "amp.message", notification("OrdersAvailability"))
    assert "Runbook: https://example.com/runbooks/X.md" in message
    assert 'Error budget "burning" 14x' in message


def test_inhibit_rules_silence_the_matching_ticket():
    rules = yaml.safe_load(DEFINITION["alertmanager_config"])["inhibit_rules"]
    # A burn-rate page silences its SLO's ticket whatever the two alerts are called...
    assert rules[0] == {
        "source_matchers": ['severity="page"', 'sloth_slo=~".+"'],
        "target_matchers": ['severity="ticket"', 'sloth_slo=~".+"'],
        "equal": ["cluster", "team", "sloth_slo", "sloth_service"],
    }
    # ...and any page silences the ticket of the same alert on the same target.
    assert rules[1]["source_matchers"] == ['severity="page"']
    assert rules[1]["target_matchers"] == ['severity="ticket"']
    assert {"alertname", "namespace", "job", "instance", "team", "sloth_slo", "sloth_service"} <= set(
        rules[1]["equal"]
    )
    # Never across teams: `team` is equal on every rule (absent on both: the platform's own alerts).
    assert all("team" in rule["equal"] for rule in rules)


def test_amp_lint_passes_on_ours():
    assert lint(DEFINITION) == []
    assert lint_text(alertmanager.render(DEFINITION)) == []


def mutated(change) -> dict:
    config = yaml.safe_load(DEFINITION["alertmanager_config"])
    change(config)
    return {**DEFINITION, "alertmanager_config": yaml.safe_dump(config)}


def first_sns(config: dict) -> dict:
    return config["receivers"][0]["sns_configs"][0]


BROKEN = {
    "api_url": (
        lambda c: first_sns(c).update(api_url="https://sns.eu-west-1.amazonaws.com"),
        "receivers[page].sns_configs[0].api_url: refused: AMP sets the SNS endpoint itself",
    ),
    "http_config": (
        lambda c: first_sns(c).update(http_config={"proxy_url": "http://proxy:3128"}),
        "receivers[page].sns_configs[0].http_config: refused: AMP supports no HTTP client settings",
    ),
    "webhook receiver": (
        lambda c: c["receivers"].append({"name": "hook", "webhook_configs": [{"url": "http://x"}]}),
        "receivers[hook].webhook_configs: AMP supports only sns_configs receivers",
    ),
    "missing sigv4.region": (
        lambda c: first_sns(c).pop("sigv4"),
        "receivers[page].sns_configs[0].sigv4.region: required by AMP",
    ),
    "repeat_interval 6d on a sub-route": (
        lambda c: c["route"]["routes"][1].update(repeat_interval="6d"),
        "route.routes[1].repeat_interval: must be at most 5d, AMP's cap (got '6d')",
    ),
    "repeat_interval 1w at the root": (
        lambda c: c["route"].update(repeat_interval="1w"),
        "route.repeat_interval: must be at most 5d, AMP's cap (got '1w')",
    ),
    "global http_config": (
        lambda c: c.setdefault("global", {}).update(http_config={"proxy_url": "http://proxy:3128"}),
        "global.http_config: refused: AMP supports no HTTP client settings (proxies)",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_amp_lint_reports_one_error_per_violation(case, tmp_path):
    change, message = BROKEN[case]
    broken = mutated(change)
    problems = lint(broken)
    assert len(problems) == 1, problems
    assert problems[0].startswith(message)
    # amtool accepts what AMP refuses, hence our lint (except for the missing region and the webhook
    # receiver, which are still valid Alertmanager configuration).
    (tmp_path / "alertmanager.yml").write_text(broken["alertmanager_config"])
    (tmp_path / alertmanager.TEMPLATE).write_text(DEFINITION["template_files"][alertmanager.TEMPLATE])
    assert amtool("check-config", str(tmp_path / "alertmanager.yml")).returncode == 0


def test_each_receiver_publishes_to_its_topics_and_says_when_alerts_resolve(config_file):
    """Pages and tickets go to their topic (and the chat topic, where one is set) with a notice when they
    resolve; the watchdog's heartbeat goes to its own topic only, with no resolved notice (it never resolves
    while all is well). Every SNS call is signed for the workspace's region."""
    config = yaml.safe_load(config_file.read_text())
    message, chat = '{{ template "amp.message" . }}', '{{ template "amp.chat" . }}'
    arn = "arn:aws:sns:eu-west-1:123456789012:"
    sent = {
        receiver["name"]: [
            (sns["topic_arn"], sns["message"], sns["send_resolved"], sns["sigv4"])
            for sns in receiver["sns_configs"]
        ]
        for receiver in config["receivers"]
    }
    # Every message's subject is the short ASCII subject template (test_subject_is_short_printable_ascii).
    subjects = {sns["subject"] for receiver in config["receivers"] for sns in receiver["sns_configs"]}
    assert subjects == {'{{ template "amp.subject" . }}'}
    region = {"region": "eu-west-1"}
    assert sent == {
        "page": [(f"{arn}page", message, True, region), (f"{arn}chat", chat, True, region)],
        "ticket": [(f"{arn}ticket", message, True, region), (f"{arn}chat", chat, True, region)],
        "orders-page": [(f"{arn}orders-page", message, True, region)],
        "orders-ticket": [(f"{arn}orders-ticket", message, True, region)],
        "payments-page": [(f"{arn}payments-page", message, True, region)],
        "payments-ticket": [(f"{arn}payments-ticket", message, True, region)],
        "watchdog": [(f"{arn}watchdog", message, False, region)],
    }


def test_amp_lint_names_what_amp_accepts_and_its_caps_edges():
    """An SNS field Alertmanager knows but AMP does not take (target_arn) is refused with the list AMP takes;
    the repeat cap is "at most 5d": 5 days (also as 120h) pass, 5 days and a minute do not; an empty
    duration is not one; a definition whose config is not YAML text is refused whole."""

    def target_arn(c: dict) -> None:
        first_sns(c)["target_arn"] = first_sns(c).pop("topic_arn")

    assert lint(mutated(target_arn)) == [
        "receivers[page].sns_configs[0].target_arn: refused: AMP accepts only "
        "['attributes', 'message', 'send_resolved', 'sigv4', 'subject', 'topic_arn']",
        "receivers[page].sns_configs[0].topic_arn: required (AMP sends to SNS topics only)",
    ]
    for accepted in ("5d", "120h", "4d23h59m"):
        assert lint(mutated(lambda c, r=accepted: c["route"].update(repeat_interval=r))) == [], accepted
    assert lint(mutated(lambda c: c["route"].update(repeat_interval="5d1m"))) == [
        "route.repeat_interval: must be at most 5d, AMP's cap (got '5d1m')"
    ]
    assert lint(mutated(lambda c: c["route"].update(repeat_interval=""))) == [
        "route.repeat_interval: not a duration (got '')"
    ]
    assert lint({**DEFINITION, "alertmanager_config": {"route": {}}}) == [
        "alertmanager_config: must be the Alertmanager configuration as a YAML string"
    ]


def test_a_teams_chat_topic_gets_a_copy_of_its_pages_and_tickets():
    """A team with a chat channel: its page and ticket receivers publish to its own topic and, in the chat
    format, to its chat topic."""
    arn = "arn:aws:sns:eu-west-1:123456789012:"
    topics = alertmanager.Topics(
        page=f"{arn}page",
        ticket=f"{arn}ticket",
        watchdog=f"{arn}watchdog",
        teams={
            "orders": alertmanager.TeamTopics(
                page=f"{arn}orders-page", ticket=f"{arn}orders-ticket", chat=f"{arn}orders-chat"
            )
        },
    )
    config = alertmanager.alertmanager_config(alerting=AlertingConfig(), region="eu-west-1", topics=topics)
    sent = {
        receiver["name"]: [(sns["topic_arn"], sns["message"]) for sns in receiver["sns_configs"]]
        for receiver in config["receivers"]
    }
    message, chat = '{{ template "amp.message" . }}', '{{ template "amp.chat" . }}'
    assert sent["orders-page"] == [(f"{arn}orders-page", message), (f"{arn}orders-chat", chat)]
    assert sent["orders-ticket"] == [(f"{arn}orders-ticket", message), (f"{arn}orders-chat", chat)]
    assert sent["page"] == [(f"{arn}page", message)]  # no platform chat channel here
