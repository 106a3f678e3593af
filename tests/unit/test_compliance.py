"""cdk-nag, cfn-lint, kubernetes-validate and our own checks of what cdk-nag misses on aws_eks_v2."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import aws_cdk as cdk
import kubernetes_validate
import pytest
from aws_cdk import aws_iam as iam

from app import build
from config import KUBERNETES_VERSION, environment_config
from tests.unit.conftest import CDK_CONTEXT, STACK_ROLES, Synthesized, run_cfn_lint

VARIANTS = ["dev", "prod", "auto", "managed"]
# Every finding we accept, by rule and where it is acknowledged. A new one must be reviewed and added here.
EXPECTED_ACKNOWLEDGEMENTS = {
    ("IAM4[AmazonEKSClusterPolicy]", "Cluster/Eks/Cluster/Role"),
    ("IAM4[service-role/AWSLambdaBasicExecutionRole]", "Cluster/Eks/Cluster/KubectlProvider"),
    ("IAM4[service-role/AWSLambdaVPCAccessExecutionRole]", "Cluster/Eks/Cluster/KubectlProvider"),
    ("IAM4[AmazonEC2ContainerRegistryReadOnly]", "Cluster/Eks/Cluster/KubectlProvider"),
    ("IAM4[AmazonElasticContainerRegistryPublicReadOnly]", "Cluster/Eks/Cluster/KubectlProvider"),
    (
        "IAM5[Resource::<EksClusterKubectlProviderHandlerDA75FB7A.Arn>:*]",
        "Cluster/Eks/Cluster/KubectlProvider",
    ),
    ("L1", "Cluster/Eks/Cluster/KubectlProvider/Handler"),
    ("IAM4[service-role/AWSLambdaBasicExecutionRole]", "Cluster/<LogRetentionHandler>"),
    ("IAM5[Resource::*]", "Cluster/<LogRetentionHandler>"),
    ("IAM4[AmazonEKSWorkerNodePolicy]", "Cluster/Eks/Cluster/NodegroupNodes/NodeGroupRole"),
    ("IAM4[AmazonEKS_CNI_Policy]", "Cluster/Eks/Cluster/NodegroupNodes/NodeGroupRole"),
    ("IAM4[AmazonEC2ContainerRegistryReadOnly]", "Cluster/Eks/Cluster/NodegroupNodes/NodeGroupRole"),
    ("IAM4[service-role/AmazonEBSCSIDriverPolicy]", "Cluster/NodeCapacity/EbsCsiRole"),
    ("IAM5[Resource::*]", "Cluster/ClusterAutoscaler/Identity/Role"),
    *(
        (f"IAM5[Resource::{resource}]", "Cluster/<AlbController>")
        for resource in (
            "*",
            "arn:<AWS::Partition>:ec2:*:*:security-group/*",
            *(
                f"arn:<AWS::Partition>:elasticloadbalancing:*:*:{kind}"
                for kind in (
                    "loadbalancer/app/*/*",
                    "loadbalancer/net/*/*",
                    "targetgroup/*/*",
                    "listener/app/*/*/*",
                    "listener/net/*/*/*",
                    "listener-rule/app/*/*/*",
                    "listener-rule/net/*/*/*",
                )
            ),
        )
    ),
    ("IAM4[service-role/AWSBackupServiceRolePolicyForBackup]", "Workloads/DatabaseBackup/Plan/TaggedVolumes"),
    ("IAM4[service-role/AWSBackupServiceRolePolicyForRestores]", "Workloads/DatabaseBackup/RestoreRole"),
    ("SMG4", "Workloads/DatabaseCredentials/Secret"),
    ("IAM5[Action::kms:GenerateDataKey*]", "Grafana/Grafana/Role"),
    ("IAM5[Resource::*]", "Grafana/Grafana/Role"),
    ("L1", "Grafana/Provisioning/Function"),
    ("L1", "Grafana/HealthCheck/Function"),
    ("L1", "Verification/ClusterProbe/Function"),
    ("IAM4[service-role/AWSLambdaVPCAccessExecutionRole]", "Verification/ClusterProbe/Role"),
    ("IAM5[Resource::*]", "Verification/Verifier/Role"),  # cloudwatch:GetMetricData has no resource type
    # Describe this workspace's rule groups namespaces, however many the services need.
    (
        "IAM5[Resource::arn:aws:aps:us-east-1:<AWS::AccountId>:rulegroupsnamespace/"
        "<PrometheusWorkspaceF3098DB6.WorkspaceId>/*]",
        "Monitoring/Rules/ReadPolicy",
    ),
    *(
        (finding, "Grafana/Provisioning/Provider/framework-onEvent")
        for finding in (
            "IAM4[service-role/AWSLambdaBasicExecutionRole]",
            "IAM5[Resource::<ProvisioningFunctionB9114B5D.Arn>:*]",
        )
    ),
}


def _nag_report(synth: Synthesized) -> dict:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return nag


def _short(acknowledged_id: str) -> str:
    """`AwsSolutions::AwsSolutions-IAM4[Policy::arn:...:policy/X]` → `IAM4[X]`."""
    rule = acknowledged_id.split("::AwsSolutions-", 1)[1]
    if rule.startswith("IAM4[Policy::"):
        policy = rule.split(":policy/", 1)[1].split('"', 1)[0].rstrip("]")
        return f"IAM4[{policy}]"
    return rule


def _path(construct_path: str) -> str:
    """The path below the stage, with the ALB controller's generated singleton id named by its role."""
    path = construct_path.removeprefix("Dev/")
    path = re.sub(r"^Cluster/\w+-AlbController$", "Cluster/<AlbController>", path)
    return re.sub(r"^Cluster/LogRetention[0-9a-f]{32}$", "Cluster/<LogRetentionHandler>", path)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cdk_nag_finds_nothing_unacknowledged(synthesized, variant):
    nag = _nag_report(synthesized[variant])
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []


def test_every_acknowledgement_is_expected_and_explained(dev):
    suppressed = _nag_report(dev)["suppressedViolations"]
    acknowledged = {(_short(s["acknowledgedId"]), _path(s["acknowledgedAt"])) for s in suppressed}
    assert acknowledged == EXPECTED_ACKNOWLEDGEMENTS
    for finding in suppressed:
        assert len(finding["reason"]) >= 50, f"reason too thin for {finding['acknowledgedId']}"


def test_cdk_nag_fails_the_synth_on_a_new_finding(tmp_path):
    """The checks are live: an unacknowledged finding stops the synth (no half-written assembly)."""
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    stage = build(app, environment_config("dev"))
    iam.Role(
        stage.network,
        "Careless",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AdministratorAccess")],
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] for v in p["violations"]]
    assert any("IAM4" in v["ruleName"] and "Careless" in json.dumps(v) for v in violations)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cfn_lint_finds_no_errors(synthesized, variant):
    templates = sorted(str(p) for p in Path(synthesized[variant].outdir).rglob("*.template.json"))
    # Every stack's, and the nested stacks (the rule groups namespaces', the teams' topics and policies).
    assert len(templates) == len(STACK_ROLES) + len(synthesized[variant].nested_templates)
    result = run_cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


# kubernetes-validate has no schemas for these CRDs; tests in test_cluster_stack assert them structurally.
CUSTOM_RESOURCES = {
    ("eks.amazonaws.com/v1", "NodeClass"),
    ("eks.amazonaws.com/v1", "IngressClassParams"),
    ("karpenter.sh/v1", "NodePool"),
    ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_kubernetes_manifests_are_valid_for_the_cluster_version_strictly(synthesized, variant):
    objects = synthesized[variant].kubernetes_manifests()
    assert objects
    for manifest in objects:
        if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_RESOURCES:
            continue
        kubernetes_validate.validate(manifest, f"{KUBERNETES_VERSION}.0", strict=True)


def test_strict_validation_rejects_an_unknown_field():
    """Guards the test above: strict mode must refuse fields the 1.35 schema does not have."""
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {}},
            f"{KUBERNETES_VERSION}.0",
            strict=True,
        )


# cdk-nag's EKS rules (EKS1, EKS2) inspect the old aws_eks class only; these are checked for every variant
# in test_cluster_stack: endpoint access, all five log types, secrets encryption with a rotating key.
def test_prod_and_dev_endpoints_are_private_by_default():
    for name in ("dev", "prod"):
        config = environment_config(name)
        assert config.endpoint_access.value == "private"
        assert config.public_access_cidrs == ()


def test_prod_synthesizes_for_an_explicit_account(prod):
    assert prod.stage.account == "123456789012"
    assert dataclasses.asdict(prod.config)["account"] == "123456789012"
