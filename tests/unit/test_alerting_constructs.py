"""Alert notification topics, rule groups namespaces and the workspace's Alertmanager definition, on a bare
stack: assertions, cdk-nag (AwsSolutions, nothing unacknowledged) and cfn-lint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import Validations
from aws_cdk import aws_aps as aps
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from config.alerting import AlertingConfig, SlackChannel, TeamChannels, TeamsChannel
from observability import alertmanager
from observability.amp_lint import lint_text
from stacks.constructs.alert_notifications import AlertNotifications
from stacks.constructs.dead_mans_switch import DeadMansSwitch
from stacks.constructs.prometheus_rules import MAX_DATA_BYTES, PrometheusRules, RuleFileError, rules_data
from stacks.constructs.prometheus_workspace import PrometheusWorkspace
from tests.unit.conftest import CDK_CONTEXT, run_cfn_lint

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
# Twice the Watchdog's 30-minute repeat interval.
HEARTBEAT_SILENCE_MINUTES = 60
TEAMS = TeamsChannel(
    team_id="5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    channel_id="19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
    tenant_id="0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
)
ALERTING = AlertingConfig(
    page_emails=("oncall@example.com",),
    ticket_emails=("team@example.com", "lead@example.com"),
    slack=SlackChannel(workspace_id="T0123ABCD", channel_id="C0123ABCD"),
    teams=TEAMS,
)
RULES = {
    "slos": {
        "groups": [
            {"name": "slo-orders", "rules": [{"record": "slo:x:ratio", "expr": "vector(1)"}]},
        ]
    },
    "platform-alerts": {
        "groups": [
            {
                "name": "watchdog",
                "rules": [{"alert": "Watchdog", "expr": "vector(1)", "labels": {"severity": "none"}}],
            }
        ]
    },
}


def build(
    outdir: Path, alerting: AlertingConfig = ALERTING, teams: tuple[str, ...] = ()
) -> tuple[cdk.Stack, AlertNotifications]:
    """The wiring the monitoring stack will do: topics first, the workspace naming them, then the
    topic policies naming the workspace, then the rules."""
    app = cdk.App(outdir=str(outdir), context=CDK_CONTEXT)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Alerting", env=ENV)
    alerts = AlertNotifications(
        stack,
        "Alerts",
        alerting=alerting,
        heartbeat_silence=cdk.Duration.minutes(HEARTBEAT_SILENCE_MINUTES),
        teams=teams,
    )
    definition = alertmanager.definition(alerting=alerting, region=stack.region, topics=alerts.topics)
    workspace = PrometheusWorkspace(
        stack,
        "Prometheus",
        alias="test",
        retention_days=150,
        log_retention=logs.RetentionDays.ONE_MONTH,
        customer_managed_key=False,
        alert_manager_definition=alertmanager.render(definition),
    )
    alerts.allow_publish_from(workspace.workspace.attr_arn)
    PrometheusRules(stack, "Rules", workspace=workspace.workspace, files=RULES)
    return stack, alerts


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("alerting")
    stack, _ = build(outdir)
    stack.node.root.synth()  # type: ignore[attr-defined]
    return outdir, Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def template(synthesized):
    return Template.from_json(synthesized[1])


def resources(template_json: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == kind}


def test_topics_are_standard_and_encrypted_with_the_rotating_key(template, synthesized):
    topics = resources(synthesized[1], "AWS::SNS::Topic")
    assert len(topics) == 4  # page, ticket, watchdog, chat
    (key_id,) = resources(synthesized[1], "AWS::KMS::Key")
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert "FifoTopic" not in topic["Properties"]
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_policy_lets_aps_and_cloudwatch_alarms_use_it_as_the_sns_guide_documents(template):
    """The SNS guide's key statement for AWS services publishing to SSE topics has no conditions; the
    topic policies do the confining (next test)."""

    def statement(sid: str, service: str) -> Any:
        return Match.object_equals(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )

    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        statement("AllowAmpAlertmanager", "aps.amazonaws.com"),
                        statement("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com"),
                    ]
                )
            }
        },
    )


def test_key_policy_grants_no_other_service(synthesized):
    (key,) = resources(synthesized[1], "AWS::KMS::Key").values()
    principals = [s["Principal"] for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert principals == [
        {"AWS": "arn:aws:iam::123456789012:root"},
        {"Service": "aps.amazonaws.com"},
        {"Service": "cloudwatch.amazonaws.com"},
    ]


def test_topic_policies_let_only_our_workspace_publish_over_tls(synthesized):
    workspace_id = next(iter(resources(synthesized[1], "AWS::APS::Workspace")))
    policies = resources(synthesized[1], "AWS::SNS::TopicPolicy").values()
    assert len(policies) == 4
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        (aps,) = [s for s in statements if s.get("Principal") == {"Service": "aps.amazonaws.com"}]
        assert sorted(aps["Action"]) == ["sns:GetTopicAttributes", "sns:Publish"]
        assert aps["Condition"] == {
            "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [workspace_id, "Arn"]}},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        }
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_email_subscriptions_follow_the_config(synthesized):
    topic_ids = {
        v["Properties"]["DisplayName"]: k for k, v in resources(synthesized[1], "AWS::SNS::Topic").items()
    }
    emails = {
        (s["Properties"]["TopicArn"]["Ref"], s["Properties"]["Endpoint"])
        for s in resources(synthesized[1], "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    }
    assert emails == {
        (topic_ids["Alerts: page"], "oncall@example.com"),
        (topic_ids["Alerts: ticket"], "team@example.com"),
        (topic_ids["Alerts: ticket"], "lead@example.com"),
    }


def test_chat_channels_get_the_chat_topic_a_bare_role_and_a_deny_all_guardrail(template, synthesized):
    topic_ids = {
        v["Properties"]["DisplayName"]: k for k, v in resources(synthesized[1], "AWS::SNS::Topic").items()
    }
    (guardrail_id, guardrail) = next(iter(resources(synthesized[1], "AWS::IAM::ManagedPolicy").items()))
    assert guardrail["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "*", "Effect": "Deny", "Resource": "*"}
    ]
    (role_id, role) = next(iter(resources(synthesized[1], "AWS::IAM::Role").items()))
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "chatbot.amazonaws.com"
    }
    assert "Policies" not in role["Properties"]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert not resources(synthesized[1], "AWS::IAM::Policy")
    common = {
        "IamRoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
        "GuardrailPolicies": [{"Ref": guardrail_id}],
        "SnsTopicArns": [{"Ref": topic_ids["Alerts: chat"]}],
    }
    template.has_resource_properties(
        "AWS::Chatbot::SlackChannelConfiguration",
        {**common, "SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"},
    )
    template.has_resource_properties(
        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
        {**common, "TeamId": TEAMS.team_id, "TeamsTenantId": TEAMS.tenant_id},
    )


def test_without_chat_there_is_no_chat_topic_and_no_chat_receiver(tmp_path):
    stack, alerts = build(tmp_path, AlertingConfig())
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 3)
    template.resource_count_is("AWS::SNS::Subscription", 0)
    template.resource_count_is("AWS::Chatbot::SlackChannelConfiguration", 0)
    assert alerts.topics.chat is None


def display_names(template_json: dict[str, Any]) -> dict[str, str]:
    """Topic display name → logical id."""
    return {v["Properties"]["DisplayName"]: k for k, v in resources(template_json, "AWS::SNS::Topic").items()}


def test_dead_mans_switch_alarms_after_an_hour_without_a_heartbeat(template, synthesized):
    """SNS's NumberOfMessagesPublished of the watchdog topic, in 5-minute sums: ALARM when all 12 buckets
    of the last 60 minutes (twice the 30-minute heartbeat) are empty or missing; ALARM and OK go to the
    page topic and the chat topic (Chatbot shows CloudWatch alarms as they are)."""
    topics = display_names(synthesized[1])
    notified = [{"Ref": topics["Alerts: page"]}, {"Ref": topics["Alerts: chat"]}]
    template.resource_count_is("AWS::CloudWatch::Alarm", 1)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SNS",
            "MetricName": "NumberOfMessagesPublished",
            "Dimensions": [
                {
                    "Name": "TopicName",
                    "Value": {"Fn::GetAtt": [topics["Alerts: watchdog heartbeat"], "TopicName"]},
                }
            ],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 12,
            "DatapointsToAlarm": 12,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            "TreatMissingData": "breaching",
            "AlarmActions": notified,
            "OKActions": notified,
            "AlarmDescription": Match.string_like_regexp(
                "for 60 minutes.*Runbook: https://github.com/example-org/eks-observability/blob/main/docs/"
                "runbooks/Watchdog.md"
            ),
        },
    )
    (alarm,) = resources(synthesized[1], "AWS::CloudWatch::Alarm").values()
    assert "AlarmName" not in alarm["Properties"]
    assert "InsufficientDataActions" not in alarm["Properties"]


def test_cloudwatch_may_publish_only_for_this_alarm_and_only_to_the_page_and_chat_topics(
    template, synthesized
):
    topics = display_names(synthesized[1])
    (alarm_id,) = resources(synthesized[1], "AWS::CloudWatch::Alarm")
    for name in ("Alerts: page", "Alerts: chat"):
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "Topics": [{"Ref": topics[name]}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_equals(
                                {
                                    "Sid": "AllowDeadMansSwitchAlarm",
                                    "Effect": "Allow",
                                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                    "Action": "sns:Publish",
                                    "Resource": {"Ref": topics[name]},
                                    "Condition": {
                                        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [alarm_id, "Arn"]}},
                                        "StringEquals": {"aws:SourceAccount": "123456789012"},
                                    },
                                }
                            )
                        ]
                    )
                },
            },
        )
    principals = {
        policy["Properties"]["Topics"][0]["Ref"]: [
            s["Principal"] for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        for policy in resources(synthesized[1], "AWS::SNS::TopicPolicy").values()
    }
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    assert {topic for topic, found in principals.items() if cloudwatch in found} == {
        topics["Alerts: page"],
        topics["Alerts: chat"],
    }


def test_without_chat_the_switch_notifies_the_page_topic(tmp_path):
    stack, alerts = build(tmp_path, AlertingConfig(page_emails=("oncall@example.com",)))
    page = stack.resolve(alerts.page_topic.topic_arn)
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": [page], "OKActions": [page]}
    )


NO_SUBSCRIBER = "Pages reach no one: alerting.page_emails is empty and no Slack or Teams channel is set"


@pytest.mark.parametrize(
    ("alerting", "warned"),
    [
        (AlertingConfig(), True),
        (AlertingConfig(ticket_emails=("team@example.com",)), True),  # tickets are not pages
        (AlertingConfig(page_emails=("oncall@example.com",)), False),
        (AlertingConfig(slack=SlackChannel(workspace_id="T0123ABCD", channel_id="C0123ABCD")), False),
        (AlertingConfig(teams=TEAMS), False),
    ],
    ids=["nothing", "tickets-only", "page-email", "slack", "teams"],
)
def test_a_page_topic_without_subscriber_warns_at_synth(tmp_path, alerting, warned):
    stack, _ = build(tmp_path, alerting)
    warnings = Annotations.from_stack(stack).find_warning(
        "/Alerting/Alerts", Match.string_like_regexp(NO_SUBSCRIBER)
    )
    assert len(warnings) == (1 if warned else 0)
    if warned:
        assert "AlertPageTopicArn" in str(warnings[0].entry.data)


def test_the_silence_is_whole_alarm_periods(tmp_path):
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "S", env=ENV)
    topic = sns.Topic(stack, "T")
    with pytest.raises(ValueError, match="multiple of 5 minutes"):
        DeadMansSwitch(
            stack,
            "Switch",
            heartbeat=topic,
            notify=[topic],
            silence=cdk.Duration.minutes(62),
            runbook_url="https://example.com/Watchdog.md",
        )


def render_tokens(value: Any, names: set[str]) -> str:
    """Fn::Join of literals and Refs → text with each Ref as `<LogicalId>`."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        names.add(value["Ref"])
        return f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return separator.join(render_tokens(part, names) for part in parts)


def test_alertmanager_definition_is_a_join_of_yaml_and_topic_refs(synthesized):
    (workspace,) = resources(synthesized[1], "AWS::APS::Workspace").values()
    value = workspace["Properties"]["AlertManagerDefinition"]
    assert set(value) == {"Fn::Join"}
    refs: set[str] = set()
    text = render_tokens(value, refs)
    topic_ids = {
        v["Properties"]["DisplayName"]: k for k, v in resources(synthesized[1], "AWS::SNS::Topic").items()
    }
    assert refs == set(topic_ids.values())
    document = yaml.safe_load(text)
    assert set(document) == {"alertmanager_config", "template_files"}
    config = yaml.safe_load(document["alertmanager_config"])
    arns = {r["name"]: [c["topic_arn"] for c in r["sns_configs"]] for r in config["receivers"]}
    chat = f"<{topic_ids['Alerts: chat']}>"
    assert arns == {
        "page": [f"<{topic_ids['Alerts: page']}>", chat],
        "ticket": [f"<{topic_ids['Alerts: ticket']}>", chat],
        "watchdog": [f"<{topic_ids['Alerts: watchdog heartbeat']}>"],
    }
    assert {c["sigv4"]["region"] for r in config["receivers"] for c in r["sns_configs"]} == {"eu-west-1"}
    assert lint_text(text) == []


def test_one_rule_groups_namespace_per_file_each_in_its_own_nested_stack(synthesized):
    """The rules are not in the parent's template: one nested stack per namespace, named after it, holds
    that namespace alone, with the workspace's ARN passed in from the parent."""
    assert resources(synthesized[1], "AWS::APS::RuleGroupsNamespace") == {}
    workspace_id = next(iter(resources(synthesized[1], "AWS::APS::Workspace")))
    nested = resources(synthesized[1], "AWS::CloudFormation::Stack")
    assert sorted(nested) == [
        m for m in sorted(nested) if re.fullmatch(r"Rules(PlatformAlerts|Slos)NestedStack\w+", m)
    ]
    assert len(nested) == len(RULES)
    for stack in nested.values():
        (parameter,) = stack["Properties"]["Parameters"].values()
        assert parameter == {"Fn::GetAtt": [workspace_id, "Arn"]}
    namespaces = {}
    for path in sorted(synthesized[0].glob("*.nested.template.json")):
        template = json.loads(path.read_text())
        (namespace,) = resources(template, "AWS::APS::RuleGroupsNamespace").values()
        assert len(template["Resources"]) == 1
        (parameter,) = template["Parameters"]
        assert namespace["Properties"]["Workspace"] == {"Ref": parameter}
        namespaces[namespace["Properties"]["Name"]] = yaml.safe_load(namespace["Properties"]["Data"])
    assert namespaces == RULES


def test_the_rules_read_policy_covers_every_namespace_of_this_workspace_only(synthesized):
    """The verifier's read access: one ARN pattern under this workspace's id, whatever the namespaces."""
    workspace_id = next(iter(resources(synthesized[1], "AWS::APS::Workspace")))
    (policy,) = [p for k, p in resources(synthesized[1], "AWS::IAM::ManagedPolicy").items() if "Rules" in k]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "aps:DescribeRuleGroupsNamespace"
    assert statement["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:aws:aps:eu-west-1:123456789012:rulegroupsnamespace/",
                {"Fn::GetAtt": [workspace_id, "WorkspaceId"]},
                "/*",
            ],
        ]
    }


@pytest.mark.parametrize(
    ("namespace", "document", "message"),
    [
        ("x" * 65, RULES["slos"], "name must be 1-64 characters"),
        ("bad name", RULES["slos"], "name must be 1-64 characters"),
        ("slos", {"groups": []}, "non-empty `groups` list"),
        (
            "slos",
            {"groups": [{"name": "a", "rules": []}, {"name": "a", "rules": []}]},
            "group 'a' appears more",
        ),
        (
            "slos",
            {"groups": [{"name": "g" * 720, "rules": []}]},
            "namespace + group name must be 1-721 UTF-8 bytes (got 724)",
        ),
        (
            "slos",
            {"groups": [{"name": "big", "rules": [{"record": "r", "expr": "x" * MAX_DATA_BYTES}]}]},
            f"rules file must be at most {MAX_DATA_BYTES} bytes",
        ),
    ],
)
def test_amp_limits_fail_the_synth_with_one_clear_error(namespace, document, message):
    with pytest.raises(RuleFileError, match=f"rule groups namespace '{namespace[:10]}.*': .*") as error:
        rules_data(namespace, document)
    assert message in str(error.value)
    assert str(error.value).count("\n") == 0


def test_a_bad_rules_file_stops_the_construct(tmp_path):
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "S", env=ENV)
    with pytest.raises(RuleFileError, match="bad name"):
        PrometheusRules(
            stack,
            "Rules",
            workspace=aps.CfnWorkspace(stack, "Workspace"),
            files={"bad name": RULES["slos"]},
        )


def nag_reports(outdir: Path) -> list[dict[str, Any]]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]


def test_cdk_nag_finds_nothing_but_the_acknowledged_namespace_wildcard(synthesized):
    for nag in nag_reports(synthesized[0]):
        assert nag["conclusion"] == "success"
        assert nag["violations"] == []
        (suppressed,) = nag.get("suppressedViolations", [])
        assert suppressed["ruleName"].startswith(
            "AwsSolutions-IAM5[Resource::arn:aws:aps:eu-west-1:123456789012:rulegroupsnamespace/"
            "<PrometheusWorkspace"
        )
        assert suppressed["ruleName"].endswith(".WorkspaceId>/*]")


def test_cdk_nag_runs_on_this_test_app(tmp_path):
    """Guards the test above: the same app set-up reports a topic without the TLS-only policy."""
    stack, _ = build(tmp_path, AlertingConfig())
    sns.Topic(stack, "Careless")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        stack.node.root.synth()  # type: ignore[attr-defined]
    (nag,) = nag_reports(tmp_path)
    assert [v["ruleName"] for v in nag["violations"]] == ["AwsSolutions-SNS3"]
    assert "Careless" in json.dumps(nag["violations"])


def test_cfn_lint_finds_no_errors(synthesized):
    templates = sorted(str(p) for p in synthesized[0].glob("*.template.json"))
    assert templates
    result = run_cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_team_gets_its_own_topics_subscriptions_and_routes(tmp_path):
    alerting = AlertingConfig(
        page_emails=("oncall@example.com",),
        team_channels={"orders": TeamChannels(page_emails=("orders-oncall@example.com",))},
    )
    stack, alerts = build(tmp_path, alerting, teams=("orders", "payments"))
    # Each team's topics in a nested stack of their own (the parent grows by one resource per team), and
    # their policies in a second one, created after the workspace whose Alertmanager names the topics.
    parent = Template.from_stack(stack)
    assert sorted(parent.find_resources("AWS::CloudFormation::Stack")) == [
        lid
        for lid in sorted(parent.find_resources("AWS::CloudFormation::Stack"))
        if re.match(r"(AlertsTeam(Orders|Payments)(Policies)?NestedStack|Rules)", lid)
    ]
    assert len(parent.find_resources("AWS::SNS::Topic")) == 3  # the platform's page, ticket, watchdog
    topics = {team: Template.from_stack(alerts.teams[team]) for team in ("orders", "payments")}
    for team, template in topics.items():
        assert sorted(
            t["Properties"]["DisplayName"] for t in template.find_resources("AWS::SNS::Topic").values()
        ) == [
            f"Alerts: {team} page",
            f"Alerts: {team} ticket",
        ]
        # Their whole policy lives in the policies stack: no second TopicPolicy would overwrite it.
        template.resource_count_is("AWS::SNS::TopicPolicy", 0)
    names = {
        topic["Properties"]["DisplayName"]: logical_id
        for logical_id, topic in topics["orders"].find_resources("AWS::SNS::Topic").items()
    }
    # The team's own subscription, on its own page topic only.
    topics["orders"].has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "email",
            "Endpoint": "orders-oncall@example.com",
            "TopicArn": {"Ref": names["Alerts: orders page"]},
        },
    )
    topics["orders"].resource_count_is("AWS::SNS::Subscription", 1)
    topics["payments"].resource_count_is("AWS::SNS::Subscription", 0)
    # Only this workspace may publish to a team's topics, over TLS, as to the platform's.
    policies_stack = next(
        c
        for c in alerts.node.children
        if isinstance(c, cdk.NestedStack) and c.node.id == "TeamOrdersPolicies"
    )
    policies = Template.from_stack(policies_stack).find_resources("AWS::SNS::TopicPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert set(statements) == {"AllowAmpAlertmanager", "AllowPublishThroughSSLOnly"}
        amp = statements["AllowAmpAlertmanager"]
        assert amp["Principal"] == {"Service": "aps.amazonaws.com"}
        assert set(amp["Condition"]) == {"ArnEquals", "StringEquals"}
        assert statements["AllowPublishThroughSSLOnly"]["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }
    # A team without a page subscriber is a warning that names the team.
    Annotations.from_stack(stack).has_warning(
        "/Alerting/Alerts/TeamPayments", Match.string_like_regexp("The payments team's pages reach no one")
    )
    config = yaml.safe_load(
        alertmanager.definition(alerting=alerting, region="eu-west-1", topics=alerts.topics)[
            "alertmanager_config"
        ]
    )
    receivers = {r["name"] for r in config["receivers"]}
    assert {"orders-page", "orders-ticket", "payments-page", "payments-ticket"} <= receivers
