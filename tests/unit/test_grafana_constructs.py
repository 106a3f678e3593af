"""The Grafana stack on a bare app, next to a stub stack holding an AMP workspace and an alert topic:
workspace, role policies, provisioner Lambda, provider, custom resource and dashboards asset; cdk-nag
(AwsSolutions, nothing unacknowledged) and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_aps as aps
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from config.grafana import GrafanaAuthentication, GrafanaConfig
from observability.dashboards import Folder
from stacks.constructs.grafana_api_function import GRAFANA_ACTIONS, PROVISIONER_CODE
from stacks.constructs.grafana_provisioning import dashboards_file
from stacks.constructs.managed_grafana import (
    AMP_ALERT_READ_ACTIONS,
    AMP_QUERY_ACTIONS,
    CLOUDWATCH_READ_ACTIONS,
    LOGS_READ_ACTIONS,
)
from stacks.grafana_stack import GrafanaStack
from stacks.lambda_code import CODE_EXCLUDES
from tests.unit.conftest import CDK_CONTEXT, run_cfn_lint

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
DASHBOARDS: list[dict[str, Any]] = [
    {"uid": "eks-test", "title": "Test", "panels": [{"type": "stat", "targets": [{"expr": "up"}]}]},
]
SERVICE_DASHBOARD: dict[str, Any] = {"uid": "svc-test", "title": "team / test", "panels": []}
FOLDERS = (
    Folder("eks-observability", "EKS observability", tuple(DASHBOARDS)),
    Folder("svc-test-folder", "Service: test", (SERVICE_DASHBOARD,)),
)
SAML_URL = "https://idp.example.com/app/metadata.xml"


def stub_handler(directory: Path) -> Path:
    """A stand-in for lambda/grafana_provisioner: these tests must not depend on the real handler."""
    code = directory / "provisioner"
    (code / "tests").mkdir(parents=True)
    (code / "handler.py").write_text("def on_event(event, context):\n    return {}\n")
    (code / "tests" / "test_handler.py").write_text("")
    return code


def build(
    outdir: Path, grafana: GrafanaConfig | None = None, dashboards: tuple[Folder, ...] = FOLDERS
) -> tuple[cdk.Stack, GrafanaStack]:
    app = cdk.App(outdir=str(outdir), context=CDK_CONTEXT)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    monitoring = cdk.Stack(app, "Monitoring", env=ENV)
    workspace = aps.CfnWorkspace(monitoring, "Workspace", alias="test")
    key = kms.Key(monitoring, "Key", enable_key_rotation=True)
    topics = [
        sns.Topic(monitoring, "PageTopic", master_key=key, enforce_ssl=True),
        sns.Topic(monitoring, "TicketTopic", master_key=key, enforce_ssl=True),
    ]
    stack = GrafanaStack(
        app,
        "Grafana",
        env=ENV,
        grafana=grafana or GrafanaConfig(),
        prometheus_workspace=workspace,
        alert_topics=topics,
        dashboards=dashboards,
        log_retention=logs.RetentionDays.ONE_MONTH,
        provisioner_code=stub_handler(outdir.parent / f"{outdir.name}-code"),
    )
    return monitoring, stack


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("grafana") / "cdk.out"
    monitoring, stack = build(outdir)
    stack.node.root.synth()  # type: ignore[attr-defined]
    return outdir, Template.from_stack(stack).to_json(), Template.from_stack(monitoring).to_json()


@pytest.fixture(scope="module")
def template(synthesized):
    return Template.from_json(synthesized[1])


def resources(template_json: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == kind}


def only(template_json: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (item,) = resources(template_json, kind).items()
    return item


def statements_of(template_json: dict[str, Any], role_id: str) -> dict[str, dict[str, Any]]:
    """The role's inline policy statements, by Sid (or by a description of the actions)."""
    found: dict[str, dict[str, Any]] = {}
    for policy in resources(template_json, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                found[statement.get("Sid") or json.dumps(actions)] = statement
    return found


def import_of(value: Any) -> str:
    """A cross-stack reference to the monitoring stack → the name of the output it reads."""
    if "Fn::GetStackOutput" in value:
        reference = value["Fn::GetStackOutput"]
        assert reference["StackName"] == "Monitoring"
        return str(reference["OutputName"])
    return str(value["Fn::ImportValue"])


# --- workspace ---------------------------------------------------------------------------------------


def test_workspace_is_customer_managed_with_our_role_and_pinned_version(synthesized):
    _, workspace = only(synthesized[1], "AWS::Grafana::Workspace")
    role_id, _ = next(
        (k, v)
        for k, v in resources(synthesized[1], "AWS::IAM::Role").items()
        if "Grafana" in k and "Provisioning" not in k
    )
    properties = workspace["Properties"]
    assert properties["AccountAccessType"] == "CURRENT_ACCOUNT"
    assert properties["AuthenticationProviders"] == ["AWS_SSO"]
    assert "SamlConfiguration" not in properties
    assert properties["GrafanaVersion"] == "10.4"
    assert properties["PermissionType"] == "CUSTOMER_MANAGED"
    assert properties["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert properties["DataSources"] == ["PROMETHEUS", "CLOUDWATCH"]
    assert properties["NotificationDestinations"] == ["SNS"]
    assert properties["PluginAdminEnabled"] is False
    assert "Name" not in properties  # no physical names


def test_saml_authentication_uses_the_metadata_url_and_plugins_follow_the_config(tmp_path):
    config = GrafanaConfig(
        authentication=GrafanaAuthentication.SAML, saml_metadata_url=SAML_URL, plugin_admin_enabled=True
    )
    _, stack = build(tmp_path / "cdk.out", config)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Grafana::Workspace",
        {
            "AuthenticationProviders": ["SAML"],
            "SamlConfiguration": {"IdpMetadata": {"Url": SAML_URL}},
            "PluginAdminEnabled": True,
        },
    )


def test_workspace_role_is_trusted_by_grafana_of_this_account_only(synthesized):
    _, workspace = only(synthesized[1], "AWS::Grafana::Workspace")
    role_id = workspace["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = synthesized[1]["Resources"][role_id]["Properties"]
    # Confused-deputy guard: Grafana acting for a workspace of this account and region (AMG's trust policy
    # pattern .../workspaces/*; the workspace's own id depends on this role, so it cannot be named).
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "grafana.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:grafana:eu-west-1:123456789012:/workspaces/*"},
            },
        }
    ]
    assert "ManagedPolicyArns" not in role


def test_workspace_role_reads_our_amp_workspace_and_cloudwatch_and_publishes_to_our_topics(synthesized):
    _, workspace = only(synthesized[1], "AWS::Grafana::Workspace")
    role_id = workspace["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = statements_of(synthesized[1], role_id)
    amp = statements.pop("QueryPrometheusAndReadItsAlerts")
    assert sorted(amp["Action"]) == sorted(
        [
            "aps:QueryMetrics",
            "aps:GetSeries",
            "aps:GetLabels",
            "aps:GetMetricMetadata",
            "aps:ListRules",
            "aps:ListAlerts",
            "aps:ListAlertManagerAlerts",
            "aps:ListAlertManagerAlertGroups",
            "aps:ListAlertManagerSilences",
            "aps:GetAlertManagerSilence",
            "aps:GetAlertManagerStatus",
            "aps:ListAlertManagerReceivers",
        ]
    )
    assert set(amp["Action"]) == {*AMP_QUERY_ACTIONS, *AMP_ALERT_READ_ACTIONS}
    assert "FnGetAttWorkspaceArn" in import_of(amp["Resource"])
    assert not any("Put" in a or "Delete" in a or "Create" in a for a in amp["Action"])

    cloudwatch = statements.pop("ReadCloudWatchMetrics")
    # Metrics, and log group names for the data source's health check: no log contents at all (no dashboard
    # reads logs), so no Grafana user can read any log group of the region through the workspace.
    assert sorted(cloudwatch["Action"]) == sorted(
        [
            "cloudwatch:DescribeAlarmsForMetric",
            "cloudwatch:DescribeAlarmHistory",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListMetrics",
            "cloudwatch:GetMetricStatistics",
            "cloudwatch:GetMetricData",
            "cloudwatch:GetInsightRuleReport",
            "logs:DescribeLogGroups",
        ]
    )
    assert set(cloudwatch["Action"]) == {*CLOUDWATCH_READ_ACTIONS, *LOGS_READ_ACTIONS}
    for action in ("logs:StartQuery", "logs:GetQueryResults", "logs:GetLogEvents", "logs:GetLogGroupFields"):
        assert action not in json.dumps(synthesized[1])
    assert cloudwatch["Resource"] == "*"
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}

    # What remains is SNS publish on exactly our two topics, and their key (encrypted topics need it).
    publish = statements.pop(json.dumps("sns:Publish"))
    topics = sorted(import_of(r) for r in publish["Resource"])
    assert len(topics) == 2
    assert "RefPageTopic" in topics[0]
    assert "RefTicketTopic" in topics[1]
    (key,) = statements.values()
    assert sorted(key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert "FnGetAttKey" in import_of(key["Resource"])


# --- provisioner -------------------------------------------------------------------------------------


def provisioner(synthesized) -> tuple[str, dict[str, Any]]:
    functions = resources(synthesized[1], "AWS::Lambda::Function")
    (item,) = [(k, v) for k, v in functions.items() if v["Properties"].get("Handler") == "handler.on_event"]
    return item


def test_provisioner_is_python_3_12_with_fifteen_minutes_and_no_secrets_in_its_environment(synthesized):
    _, function = provisioner(synthesized)
    properties = function["Properties"]
    assert properties["Runtime"] == "python3.12"
    assert properties["Timeout"] == 900  # Lambda's maximum: a fresh workspace is waited for within it
    # The provider framework's function invokes it synchronously: it must wait at least as long.
    framework = [
        f
        for f in resources(synthesized[1], "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "framework.onEvent"
    ]
    assert [f["Properties"]["Timeout"] for f in framework] == [900]
    assert "Environment" not in properties  # no token, key or password handed over: it mints its own
    (log_group_id, log_group) = next(
        (k, v)
        for k, v in resources(synthesized[1], "AWS::Logs::LogGroup").items()
        if "Provisioning" in k and "Provider" not in k
    )
    assert properties["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_provisioner_role_may_only_manage_its_run_account_on_our_workspace_and_read_the_dashboards(
    synthesized,
):
    _, function = provisioner(synthesized)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synthesized[1]["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = statements_of(synthesized[1], role_id)
    grafana = statements.pop("ServiceAccountForOneRun")
    assert sorted(grafana["Action"]) == sorted(
        [
            "grafana:DescribeWorkspace",
            "grafana:CreateWorkspaceServiceAccount",
            "grafana:ListWorkspaceServiceAccounts",
            "grafana:DeleteWorkspaceServiceAccount",
            "grafana:CreateWorkspaceServiceAccountToken",
            "grafana:DeleteWorkspaceServiceAccountToken",
        ]
    )
    assert set(grafana["Action"]) == set(GRAFANA_ACTIONS)
    workspace_id, _ = only(synthesized[1], "AWS::Grafana::Workspace")
    # arn:${Partition}:grafana:${Region}:${Account}:/workspaces/${ResourceId}
    assert grafana["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:aws:grafana:eu-west-1:123456789012:/workspaces/", {"Fn::GetAtt": [workspace_id, "Id"]}],
        ]
    }
    read = statements.pop("ReadDashboards")
    assert read["Action"] == "s3:GetObject"
    (resource,) = resources(synthesized[1], "Custom::GrafanaProvisioning").values()
    key = resource["Properties"]["DashboardsKey"]
    # The one object, not the bucket.
    assert read["Resource"] == f"arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/{key}"
    # What remains is writing its own log group.
    (logs_statement,) = statements.values()
    assert set(logs_statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_provider_framework_invokes_the_provisioner(synthesized):
    function_id, _ = provisioner(synthesized)
    framework = [
        v
        for v in resources(synthesized[1], "AWS::Lambda::Function").values()
        if v["Properties"].get("Environment", {}).get("Variables", {}).get("USER_ON_EVENT_FUNCTION_ARN")
    ]
    (framework_function,) = framework
    assert framework_function["Properties"]["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"] == {
        "Fn::GetAtt": [function_id, "Arn"]
    }


def test_custom_resource_carries_the_contract_properties(synthesized):
    (resource,) = [
        v for v in synthesized[1]["Resources"].values() if v["Type"] == "Custom::GrafanaProvisioning"
    ]
    properties = resource["Properties"]
    workspace_id, _ = only(synthesized[1], "AWS::Grafana::Workspace")
    assert set(properties) == {
        "ServiceToken",
        "GrafanaWorkspaceId",
        "GrafanaEndpoint",
        "GrafanaVersion",
        "Region",
        "PrometheusWorkspaceId",
        "PrometheusEndpoint",
        "DashboardsBucket",
        "DashboardsKey",
        "Folders",
    }
    assert properties["GrafanaWorkspaceId"] == {"Fn::GetAtt": [workspace_id, "Id"]}
    assert properties["GrafanaEndpoint"] == {"Fn::GetAtt": [workspace_id, "Endpoint"]}
    assert properties["GrafanaVersion"] == "10.4"
    assert properties["Region"] == "eu-west-1"
    assert "WorkspaceWorkspaceId" in import_of(properties["PrometheusWorkspaceId"])
    assert "WorkspacePrometheusEndpoint" in import_of(properties["PrometheusEndpoint"])
    assert properties["DashboardsBucket"] == "cdk-hnb659fds-assets-123456789012-eu-west-1"
    assert properties["DashboardsKey"].endswith(".json")
    # What it owns: on the next update, a dashboard or folder that left this list is deleted.
    assert properties["Folders"] == {"eks-observability": ["eks-test"], "svc-test-folder": ["svc-test"]}
    assert all(isinstance(v, (str, dict)) for v in properties.values())  # strings, tokens or the folders


def asset_files(outdir: Path) -> dict[str, Path]:
    """Staged asset paths by their source-relative name in the assembly's asset manifest."""
    (manifest,) = outdir.glob("Grafana.assets.json")
    files = json.loads(manifest.read_text())["files"]
    return {entry["source"]["path"]: outdir / entry["source"]["path"] for entry in files.values()}


def test_dashboards_asset_holds_the_models_and_its_key_follows_the_content(synthesized, tmp_path):
    outdir, template_json, _ = synthesized
    (resource,) = [
        v for v in template_json["Resources"].values() if v["Type"] == "Custom::GrafanaProvisioning"
    ]
    key = resource["Properties"]["DashboardsKey"]
    staged = [p for name, p in asset_files(outdir).items() if name.endswith(".json") and key[:-5] in name]
    (path,) = staged
    assert json.loads(path.read_text()) == {
        "folders": [
            {"uid": "eks-observability", "title": "EKS observability", "dashboards": DASHBOARDS},
            {"uid": "svc-test-folder", "title": "Service: test", "dashboards": [SERVICE_DASHBOARD]},
        ]
    }

    changed = (FOLDERS[0], Folder("svc-test-folder", "Service: test", ({**SERVICE_DASHBOARD, "title": "x"},)))
    _, other = build(tmp_path / "cdk.out", dashboards=changed)
    (changed_resource,) = Template.from_stack(other).find_resources("Custom::GrafanaProvisioning").values()
    assert changed_resource["Properties"]["DashboardsKey"] != key


def test_dashboards_file_is_written_outside_the_source_tree_with_sorted_keys():
    path = dashboards_file([Folder("f", "F", ({"uid": "b", "title": "x", "a": 1},))])
    repository = Path(__file__).resolve().parents[2]
    assert repository not in path.parents
    assert path.name == "dashboards.json"
    assert path.read_text().index('"a"') < path.read_text().index('"title"') < path.read_text().index('"uid"')


def test_handler_code_comes_from_the_folder_without_its_tests(synthesized):
    outdir = synthesized[0]
    code = [p for p in asset_files(outdir).values() if (p / "handler.py").exists()]
    (directory,) = code
    assert (directory / "handler.py").exists()
    assert not (directory / "tests").exists()
    assert "tests" in CODE_EXCLUDES
    assert PROVISIONER_CODE.parts[-2:] == ("lambda", "grafana_provisioner")


def test_stack_outputs_the_workspace_url_and_id(template):
    workspace_id = next(iter(template.find_resources("AWS::Grafana::Workspace")))
    template.has_output(
        "GrafanaWorkspaceUrl",
        {
            "Value": {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [workspace_id, "Endpoint"]}]]},
            "Description": Match.string_like_regexp("Grafana"),
        },
    )
    template.has_output("GrafanaWorkspaceId", {"Value": {"Fn::GetAtt": [workspace_id, "Id"]}})


# --- compliance --------------------------------------------------------------------------------------


def nag_reports(outdir: Path) -> list[dict[str, Any]]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]


def test_cdk_nag_finds_nothing_unacknowledged_and_every_acknowledgement_is_explained(synthesized):
    (nag,) = nag_reports(synthesized[0])
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    acknowledged = sorted(
        (s["acknowledgedId"].split("::AwsSolutions-", 1)[1], s["acknowledgedAt"].split("/", 1)[1])
        for s in nag["suppressedViolations"]
    )
    assert acknowledged == EXPECTED_ACKNOWLEDGEMENTS
    for finding in nag["suppressedViolations"]:
        assert len(finding["reason"]) >= 50


EXPECTED_ACKNOWLEDGEMENTS = sorted(
    [
        ("IAM5[Resource::*]", "Grafana/Role"),  # CloudWatch read, region-bound
        ("IAM5[Action::kms:GenerateDataKey*]", "Grafana/Role"),  # publishing to SSE-KMS topics
        ("L1", "Provisioning/Function"),  # Python 3.12 by decision
        ("L1", "HealthCheck/Function"),  # the provisioner's code and runtime
        (
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "Provisioning/Provider/framework-onEvent",
        ),
        ("IAM5[Resource::<ProvisioningFunctionB9114B5D.Arn>:*]", "Provisioning/Provider/framework-onEvent"),
    ]
)


def test_cfn_lint_finds_no_errors(synthesized):
    templates = sorted(str(p) for p in synthesized[0].glob("*.template.json"))
    assert len(templates) == 2
    result = run_cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


# --- health check (what the deployment verifier invokes instead of holding Grafana rights) ----------------


def dashboards_key(synthesized) -> str:
    (resource,) = resources(synthesized[1], "Custom::GrafanaProvisioning").values()
    return str(resource["Properties"]["DashboardsKey"])


def health_check(synthesized) -> tuple[str, dict[str, Any]]:
    functions = resources(synthesized[1], "AWS::Lambda::Function")
    (item,) = [(k, v) for k, v in functions.items() if v["Properties"].get("Handler") == "health.check"]
    return item


def test_health_check_is_fixed_at_deploy_and_bounded(synthesized):
    _, function = health_check(synthesized)
    properties = function["Properties"]
    workspace_id, _ = only(synthesized[1], "AWS::Grafana::Workspace")
    # What it checks comes from its environment, never from the caller's payload; no secret in it.
    assert properties["Environment"] == {
        "Variables": {
            "GRAFANA_WORKSPACE_ID": {"Fn::GetAtt": [workspace_id, "Id"]},
            "GRAFANA_ENDPOINT": {"Fn::GetAtt": [workspace_id, "Endpoint"]},
            # Which dashboard belongs in which folder: the provisioner's asset (uids of a hundred services
            # would not fit Lambda's 4 KB of environment variables).
            "DASHBOARDS_BUCKET": "cdk-hnb659fds-assets-123456789012-eu-west-1",
            "DASHBOARDS_KEY": dashboards_key(synthesized),
        }
    }
    assert properties["Timeout"] == 60  # below the verifier's 70 s read timeout on a synchronous invoke
    assert properties["Runtime"] == "python3.12"


def test_health_check_role_has_only_its_viewer_account_life_cycle_on_our_workspace(synthesized):
    _, function = health_check(synthesized)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in synthesized[1]["Resources"][role_id]["Properties"]
    statements = statements_of(synthesized[1], role_id)
    grafana = statements.pop("ShortLivedViewerAccount")
    assert sorted(grafana["Action"]) == sorted(
        [
            "grafana:DescribeWorkspace",
            "grafana:ListWorkspaceServiceAccounts",
            "grafana:CreateWorkspaceServiceAccount",
            "grafana:DeleteWorkspaceServiceAccount",
            "grafana:CreateWorkspaceServiceAccountToken",
            "grafana:DeleteWorkspaceServiceAccountToken",
        ]
    )
    workspace_id, _ = only(synthesized[1], "AWS::Grafana::Workspace")
    assert grafana["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:aws:grafana:eu-west-1:123456789012:/workspaces/", {"Fn::GetAtt": [workspace_id, "Id"]}],
        ]
    }
    # Reading the one dashboards object, not the bucket.
    read = statements.pop("ReadDashboards")
    assert read["Action"] == "s3:GetObject"
    bucket = "cdk-hnb659fds-assets-123456789012-eu-west-1"
    assert read["Resource"] == f"arn:aws:s3:::{bucket}/{dashboards_key(synthesized)}"
    # What remains is writing its own log group: no other service.
    (logs_statement,) = statements.values()
    assert sorted(logs_statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_health_check_arn_is_an_output(synthesized):
    _, function = health_check(synthesized)
    function_id = next(
        k for k, v in resources(synthesized[1], "AWS::Lambda::Function").items() if v is function
    )
    assert synthesized[1]["Outputs"]["GrafanaHealthCheckFunctionArn"]["Value"] == {
        "Fn::GetAtt": [function_id, "Arn"]
    }
