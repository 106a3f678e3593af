"""The stage's sixth stack, Verification: the verifier role (trust, tag, exact permissions), the cluster
probe (private subnets, its security group, EKS access entry, namespaced RBAC, the network policy that
admits it) and the outputs the verification script reads (`PlatformStage.verification_outputs`)."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from app import artifacts
from config import environment_config
from k8s.verifier_access_chart import READYZ_POLICY, VERIFIER, VERIFIER_GROUP
from observability import names
from stacks import verification_outputs
from stacks.constructs.platform_vpc import INTERNAL_LB_SUBNETS, NODE_SUBNETS
from stacks.naming import VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE
from stacks.platform_stage import PlatformStage
from tests.unit.conftest import Synthesized, run_cfn_lint
from webapp.orders_api import slo_contract

ROLE = "Verification"
TOOLCHAIN_ACCOUNT = "111122223333"


def resources(synth: Synthesized, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in synth.templates[ROLE]["Resources"].items() if v["Type"] == resource_type}


def one(synth: Synthesized, resource_type: str, contains: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in resources(synth, resource_type).items() if contains in k]
    return found


def imported(value: Any, stack: str, pattern: str) -> bool:
    """`value` reads another stack's output whose name matches `pattern`: `Fn::ImportValue` of
    `<Stage>-<stack>:ExportsOutput…`, or (with cdk.json's feature flags) `Fn::GetStackOutput`."""
    if not isinstance(value, dict):
        return False
    if "Fn::GetStackOutput" in value:
        reference = value["Fn::GetStackOutput"]
        name = f"{reference['StackName']}:{reference['OutputName'].removeprefix('PublishOutput')}"
    else:
        name = value.get("Fn::ImportValue", "").replace(":ExportsOutput", ":", 1)
    return re.fullmatch(rf"\w+-{stack}:{pattern}", name) is not None


def subnet_cidrs(synth: Synthesized, group: str) -> list[str]:
    vpc = synth.stage.network.network.vpc
    subnets = vpc.select_subnets(subnet_group_name=group).subnets
    return [Stack.of(vpc).resolve(s.ipv4_cidr_block) for s in subnets]


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_stage_has_the_verification_stack_after_grafana(synthesized, variant):
    stage = synthesized[variant].stage
    assert stage.verification.node.id == "Verification"
    assert stage.grafana in stage.verification.dependencies
    assert stage.workloads in stage.verification.dependencies  # its Role lives in the app namespace


def deploy_role(config: Any) -> dict[str, str]:
    """The CDK bootstrap deploy role of the stage's account and region (default qualifier hnb659fds)."""
    account = config.account or "${AWS::AccountId}"
    role = f"cdk-hnb659fds-deploy-role-{account}-{config.region}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{account}:role/{role}"}


def trust_of(stage: PlatformStage) -> list[dict[str, Any]]:
    roles = Template.from_stack(stage.verification).find_resources("AWS::IAM::Role")
    (role,) = [r for k, r in roles.items() if "VerifierRole" in k]
    statements: list[dict[str, Any]] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_verifier_role_is_tagged_and_trusted_by_the_deploy_role_only_by_default(synthesized, variant):
    """Whoever may deploy the stage may verify it; no account root is trusted as such."""
    synth = synthesized[variant]
    _, role = one(synth, "AWS::IAM::Role", "VerifierRole")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": deploy_role(synth.config)}}
    ]
    assert {"Key": VERIFIER_ROLE_TAG_KEY, "Value": VERIFIER_ROLE_TAG_VALUE} in role["Properties"]["Tags"]


def test_verifier_role_trusts_configured_principals_and_the_pipelines_verify_steps():
    config = dataclasses.replace(
        environment_config("dev"), verifier_principal_arns=("arn:aws:iam::444455556666:role/oncall",)
    )
    stage = PlatformStage(
        cdk.App(), "Dev", config=config, artifacts=artifacts(config), pipeline_account=TOOLCHAIN_ACCOUNT
    )

    assert trust_of(stage) == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": deploy_role(config)}},
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:role/oncall"},
        },
        {
            # The toolchain account's roles on the verify steps' path only (set at creation, never changed).
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {
                "AWS": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{TOOLCHAIN_ACCOUNT}:root"]]
                }
            },
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                f":iam::{TOOLCHAIN_ACCOUNT}:role/deployment-verification/*",
                            ],
                        ]
                    }
                }
            },
        },
    ]


def test_verifier_role_has_exactly_the_permissions_the_script_uses_on_exact_arns(dev):
    _, policy = one(dev, "AWS::IAM::Policy", "VerifierRole")
    _, role = one(dev, "AWS::IAM::Role", "VerifierRole")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {
        "QueryAndReadAlertManager",
        "InvokeGrafanaHealthCheck",
        "InvokeClusterProbe",
        "ReadSnsMetrics",
        "ReadAlertmanagerLog",
    }
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements.values())

    amp = statements["QueryAndReadAlertManager"]
    assert sorted(amp["Action"]) == ["aps:DescribeAlertManagerDefinition", "aps:QueryMetrics"]
    assert imported(amp["Resource"], "Monitoring", r"FnGetAttPrometheusWorkspace\w+Arn\w+")

    # Every rule groups namespace of the workspace, through the rules construct's managed policy (one
    # pattern, not one ARN per namespace: see test_alerting_constructs).
    (attached,) = role["Properties"]["ManagedPolicyArns"]
    assert imported(attached, "Monitoring", r"RefRulesReadPolicy\w+")

    # No Grafana right at all (no service account, no token: IAM cannot limit those to VIEWER); only the
    # health check function that answers statuses.
    assert "grafana:" not in json.dumps(policy)
    grafana = statements["InvokeGrafanaHealthCheck"]
    assert grafana["Action"] == "lambda:InvokeFunction"
    assert imported(grafana["Resource"], "Grafana", r"FnGetAttHealthCheckFunction\w+Arn\w+")

    probe = statements["InvokeClusterProbe"]
    function_id, _ = one(dev, "AWS::Lambda::Function", "ClusterProbe")
    assert probe["Action"] == "lambda:InvokeFunction"
    assert probe["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # GetMetricData takes no resource type (Service Authorization Reference): its "*" is tested below.
    assert "*" not in json.dumps([s["Resource"] for sid, s in statements.items() if sid != "ReadSnsMetrics"])


def test_verifier_reads_sns_metrics_and_only_the_amp_log_group(dev):
    """Alert delivery: CloudWatch metric reads cannot be scoped to a resource; log reads are scoped to the
    AMP workspace's log group (its ARN, `...:log-group:<name>:*`, read from the Monitoring stack)."""
    template = Template.from_json(dev.templates[ROLE])
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_equals(
                            {
                                "Sid": "ReadSnsMetrics",
                                "Effect": "Allow",
                                "Action": "cloudwatch:GetMetricData",
                                "Resource": "*",
                            }
                        ),
                        Match.object_equals(
                            {
                                "Sid": "ReadAlertmanagerLog",
                                "Effect": "Allow",
                                "Action": "logs:FilterLogEvents",
                                "Resource": Match.any_value(),
                            }
                        ),
                    ]
                )
            }
        },
    )
    _, policy = one(dev, "AWS::IAM::Policy", "VerifierRole")
    (log,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "ReadAlertmanagerLog"
    ]
    assert imported(log["Resource"], "Monitoring", r"FnGetAttPrometheusLogGroup\w+Arn\w+")


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_probe_runs_in_the_internal_load_balancer_subnets_with_its_own_security_group(synthesized, variant):
    synth = synthesized[variant]
    _, function = one(synth, "AWS::Lambda::Function", "ClusterProbe")
    properties = function["Properties"]
    assert (properties["Runtime"], properties["Handler"], properties["Timeout"]) == (
        "python3.12",
        "probe_handler.handler",
        60,
    )
    group_id, _ = one(synth, "AWS::EC2::SecurityGroup", "ClusterProbe")
    assert properties["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
    subnet_ids = properties["VpcConfig"]["SubnetIds"]
    assert len(subnet_ids) == len(synth.config.availability_zones)
    assert all(
        imported(s, "Network", rf"RefNetworkVpc{INTERNAL_LB_SUBNETS}Subnet\d+Subnet\w+") for s in subnet_ids
    )
    environment = properties["Environment"]["Variables"]
    assert set(environment) == {
        "CLUSTER_NAME",
        "CLUSTER_ENDPOINT",
        "CLUSTER_CA_DATA",
        "APP_NAMESPACE",
        "APP_NAME",
        "APP_NAME_LABEL",
        "APP_PORT",
        "READYZ_PATH",
    }
    assert (environment["APP_PORT"], environment["READYZ_PATH"]) == (
        str(slo_contract.APP_PORT),
        slo_contract.READYZ_PATH,
    )


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_probe_security_group_reaches_only_the_cluster_on_https_and_the_app_port(synthesized, variant):
    synth = synthesized[variant]
    group_id, group = one(synth, "AWS::EC2::SecurityGroup", "ClusterProbe")
    assert "SecurityGroupIngress" not in group["Properties"]
    cluster_group = r"FnGetAttEksCluster\w+ClusterSecurityGroupId\w+"
    egress = [r["Properties"] for r in resources(synth, "AWS::EC2::SecurityGroupEgress").values()]
    ingress = [r["Properties"] for r in resources(synth, "AWS::EC2::SecurityGroupIngress").values()]
    # Separate egress resources: CloudFormation drops the group's default allow-all rule.
    assert sorted((e["FromPort"], e["ToPort"], e["IpProtocol"]) for e in egress) == [
        (443, 443, "tcp"),
        (slo_contract.APP_PORT, slo_contract.APP_PORT, "tcp"),
    ]
    for rule in egress:
        assert rule["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
        assert imported(rule["DestinationSecurityGroupId"], "Cluster", cluster_group)
    assert sorted(i["FromPort"] for i in ingress) == [443, slo_contract.APP_PORT]
    for rule in ingress:
        assert imported(rule["GroupId"], "Cluster", cluster_group)
        assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}


def test_probe_role_maps_to_the_verifier_group_only(dev):
    role_id, role = one(dev, "AWS::IAM::Role", "ClusterProbeRole")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    _, entry = one(dev, "AWS::EKS::AccessEntry", "ClusterProbe")
    assert entry["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert entry["Properties"]["KubernetesGroups"] == [VERIFIER_GROUP]
    assert entry["Properties"]["Type"] == "STANDARD"
    assert "AccessPolicies" not in entry["Properties"]  # no EKS access policy: RBAC alone decides
    _, policy = one(dev, "AWS::IAM::Policy", "ClusterProbeRole")
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_kubernetes_role_reads_only_the_web_app_deployment_and_lists_pods(dev):
    role = dev.kubernetes_object("Role", VERIFIER)
    assert role["metadata"]["namespace"] == names.APP_NAMESPACE
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resourceNames": [names.WEBAPP],
            "resources": ["deployments"],
            "verbs": ["get"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    ]
    binding = dev.kubernetes_object("RoleBinding", VERIFIER)
    assert binding["metadata"]["namespace"] == names.APP_NAMESPACE
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": VERIFIER}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": VERIFIER_GROUP}
    ]
    assert not [o for o in dev.kubernetes_manifests(ROLE) if o["kind"].startswith("Cluster")]


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_network_policy_admits_the_probe_subnets_to_the_web_app_port_only(synthesized, variant):
    """The probe's subnets hold no pods (nodes and pods use the node subnets), so admitting their CIDRs
    admits the probe and the internal load balancers, and no other pod."""
    synth = synthesized[variant]
    policy = synth.kubernetes_object("NetworkPolicy", READYZ_POLICY)
    assert policy["metadata"]["namespace"] == names.APP_NAMESPACE
    assert policy["spec"]["podSelector"] == {"matchLabels": names.selector(names.WEBAPP)}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": slo_contract.APP_PORT, "protocol": "TCP"}]
    probe_cidrs = subnet_cidrs(synth, INTERNAL_LB_SUBNETS)
    assert [peer["ipBlock"]["cidr"] for peer in rule["from"]] == probe_cidrs
    pod_networks = [ipaddress.ip_network(c) for c in subnet_cidrs(synth, NODE_SUBNETS)]
    assert not any(ipaddress.ip_network(c).overlaps(p) for c in probe_cidrs for p in pod_networks)


def test_outputs_and_verification_outputs(dev, auto):
    for synth in (dev, auto):
        outputs = synth.templates[ROLE]["Outputs"]
        role_id, _ = one(synth, "AWS::IAM::Role", "VerifierRole")
        function_id, _ = one(synth, "AWS::Lambda::Function", "ClusterProbe")
        assert outputs["VerifierRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert outputs["ClusterProbeFunctionArn"]["Value"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert all(o.get("Description") for k, o in outputs.items() if not k.startswith("ExportsOutput"))
        mapping = synth.stage.verification_outputs
        assert set(mapping) == {o.env_var for o in verification_outputs.ALL}
        for entry in verification_outputs.ALL:
            output = mapping[entry.env_var]
            stack = Stack.of(output)
            # What the script reads from `make deploy`'s outputs file: stack name and logical id.
            assert stack.stack_name == verification_outputs.stack_name(synth.stage.stage_name, entry.stack_id)
            assert stack.resolve(output.logical_id) == entry.output_id
            assert entry.output_id in synth.templates[entry.stack_id]["Outputs"]


def test_probe_code_is_the_lambda_folder_without_tests(dev):
    _, function = one(dev, "AWS::Lambda::Function", "ClusterProbe")
    asset_hash = function["Properties"]["Code"]["S3Key"]
    staged = dev.outdir / f"asset.{asset_hash.removesuffix('.zip')}"
    assert sorted(p.name for p in staged.iterdir()) == ["kube_api.py", "probe_handler.py", "rollout.py"]


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_cfn_lint_finds_no_errors_in_the_verification_stack(synthesized, variant):
    synth = synthesized[variant]
    (template,) = synth.outdir.rglob(f"{synth.stage.verification.artifact_id}.template.json")
    result = run_cfn_lint([str(template)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_cdk_nag_finds_nothing_in_the_stack_and_acknowledges_only_the_probe_runtime_and_vpc_policy(
    synthesized, variant
):
    synth = synthesized[variant]
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    stack_path = f"{synth.stage.stage_name}/{ROLE}/"
    assert not [v for v in nag["violations"] if stack_path in json.dumps(v)]
    acknowledged = sorted(
        (s["acknowledgedId"].split("::AwsSolutions-", 1)[1], s["acknowledgedAt"].removeprefix(stack_path))
        for s in nag["suppressedViolations"]
        if s["acknowledgedAt"].startswith(stack_path)
    )
    assert acknowledged == [
        (
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            "ClusterProbe/Role",
        ),
        ("IAM5[Resource::*]", "Verifier/Role"),  # cloudwatch:GetMetricData: no resource type
        ("L1", "ClusterProbe/Function"),
    ]
