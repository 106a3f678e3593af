"""Capacity and the cluster's operating settings: Secrets Store add-on ordering, the Cluster Autoscaler,
the control plane's upgrade policy and deletion protection, Auto Mode tagging rights and the outputs."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest

from config import KUBERNETES_VERSION, ConfigError, environment_config
from config.platform import MANAGED_ADDONS
from stacks.constructs.cluster_autoscaler import IMAGE_TAG
from tests.unit.conftest import Synthesized

SECRETS_STORE_ADDON = "aws-secrets-store-csi-driver-provider"
HELM_CHART = "Custom::AWSCDK-EKS-HelmChart"
KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"
CLUSTER_NAME = "<cluster-name>"


def _resources(synth: Synthesized) -> dict[str, Any]:
    return synth.template("Cluster").to_json()["Resources"]


def _cluster_id(synth: Synthesized) -> str:
    (cluster_id,) = synth.template("Cluster").find_resources("AWS::EKS::Cluster")
    return cluster_id


def _render(synth: Synthesized, value: Any) -> str:
    """A CloudFormation string with the cluster's name as CLUSTER_NAME and any other token as `<token>`."""
    if isinstance(value, str):
        return value
    if value == {"Ref": _cluster_id(synth)}:
        return CLUSTER_NAME
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(synth, part) for part in parts)
    return "<token>"


def _addon(synth: Synthesized, name: str) -> tuple[str, Mapping[str, Any]]:
    matches = [
        (logical_id, resource)
        for logical_id, resource in synth.template("Cluster").find_resources("AWS::EKS::Addon").items()
        if resource["Properties"]["AddonName"] == name
    ]
    assert len(matches) == 1, f"expected one {name} add-on, found {len(matches)}"
    return matches[0]


def _helm_charts(synth: Synthesized, chart: str) -> Mapping[str, Any]:
    return synth.template("Cluster").find_resources(HELM_CHART, {"Properties": {"Chart": chart}})


def _autoscaler(synth: Synthesized) -> tuple[str, Mapping[str, Any]]:
    charts = _helm_charts(synth, "cluster-autoscaler")
    assert len(charts) == 1
    return next(iter(charts.items()))


def _depends_on(resource: Mapping[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else depends


def _role_statements(synth: Synthesized, role_id: str) -> list[dict[str, Any]]:
    policies = synth.template("Cluster").find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


# 1. Secrets Store CSI: the EKS add-on, after the capacity, in both modes.


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_secrets_store_is_the_eks_addon_and_never_syncs_secrets(synthesized, variant):
    synth = synthesized[variant]
    _, addon = _addon(synth, SECRETS_STORE_ADDON)
    assert "AddonVersion" not in addon["Properties"]  # unset: EKS's default build for 1.35
    assert json.loads(addon["Properties"]["ConfigurationValues"]) == {
        "secrets-store-csi-driver": {"syncSecret": {"enabled": False}}
    }
    assert _helm_charts(synth, "secrets-store-csi-driver-provider-aws") == {}


def test_secrets_store_waits_for_the_node_group(dev):
    _, addon = _addon(dev, SECRETS_STORE_ADDON)
    (nodegroup_id,) = dev.template("Cluster").find_resources("AWS::EKS::Nodegroup")
    assert nodegroup_id in _depends_on(addon)


def test_secrets_store_waits_for_auto_mode_capacity(auto):
    _, addon = _addon(auto, SECRETS_STORE_ADDON)
    manifests = auto.template("Cluster").find_resources(KUBERNETES_RESOURCE)
    node_pool_id = next(k for k, r in manifests.items() if "NodePool" in json.dumps(r["Properties"]))
    metrics_server_id, _ = _addon(auto, "metrics-server")
    assert {node_pool_id, metrics_server_id} <= set(_depends_on(addon))


def test_secrets_store_version_is_configurable_like_the_other_addons():
    assert SECRETS_STORE_ADDON in MANAGED_ADDONS
    dev = environment_config("dev")
    pinned = dataclasses.replace(dev, addon_versions={SECRETS_STORE_ADDON: "v3.1.3-eksbuild.1"})
    assert pinned.addon_versions[SECRETS_STORE_ADDON] == "v3.1.3-eksbuild.1"
    with pytest.raises(ConfigError, match=f"addon_versions: {SECRETS_STORE_ADDON} version must look like"):
        dataclasses.replace(dev, addon_versions={SECRETS_STORE_ADDON: "3.2.0"})


def test_secret_provider_classes_are_applied_after_the_secrets_store(dev):
    assert dev.stage.cluster in dev.stage.workloads.dependencies


# 2. Cluster Autoscaler: node-group mode only.


def _autoscaler_values(synth: Synthesized) -> dict[str, Any]:
    _, chart = _autoscaler(synth)
    return json.loads(_render(synth, chart["Properties"]["Values"]))


def test_autoscaler_chart_is_pinned_with_an_image_matching_the_kubernetes_minor(dev):
    _, chart = _autoscaler(dev)
    assert chart["Properties"]["Repository"] == "https://kubernetes.github.io/autoscaler"
    assert chart["Properties"]["Version"] == "9.59.0"
    assert chart["Properties"]["Namespace"] == "kube-system"
    values = _autoscaler_values(dev)
    assert values["image"]["tag"] == IMAGE_TAG
    assert IMAGE_TAG.startswith(f"v{KUBERNETES_VERSION}.")


def test_autoscaler_discovers_this_clusters_groups_and_reads_their_bounds(dev):
    values = _autoscaler_values(dev)
    assert values["cloudProvider"] == "aws"
    assert values["awsRegion"] == dev.config.region
    # The chart's default discovery tags: k8s.io/cluster-autoscaler/enabled and .../<clusterName>.
    assert values["autoDiscovery"] == {"clusterName": CLUSTER_NAME}
    # No --nodes and no listed groups: min/max come from the node group (node_min_size/node_max_size).
    assert "autoscalingGroups" not in values
    assert "nodes" not in values["extraArgs"]
    assert values["extraArgs"]["balance-similar-node-groups"] is True
    assert values["extraArgs"]["expander"] == "least-waste"
    assert values["priorityClassName"] == "system-cluster-critical"
    scaling = dev.single_resource("Cluster", "AWS::EKS::Nodegroup")["Properties"]["ScalingConfig"]
    assert (scaling["MinSize"], scaling["MaxSize"]) == (dev.config.node_min_size, dev.config.node_max_size)


def test_autoscaler_pod_identity_matches_the_charts_service_account(dev):
    values = _autoscaler_values(dev)
    _, chart = _autoscaler(dev)
    assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}
    associations = [
        a
        for a in dev.template("Cluster").find_resources("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == values["rbac"]["serviceAccount"]["name"]
    ]
    assert len(associations) == 1
    (association,) = associations
    assert association["Properties"]["Namespace"] == chart["Properties"]["Namespace"] == "kube-system"
    assert association["Properties"]["ClusterName"] == {"Ref": _cluster_id(dev)}


def _autoscaler_role_id(synth: Synthesized) -> str:
    association = next(
        a
        for a in synth.template("Cluster").find_resources("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "cluster-autoscaler"
    )
    return str(association["Properties"]["RoleArn"]["Fn::GetAtt"][0])


def test_autoscaler_may_only_scale_groups_tagged_for_this_cluster(dev):
    statements = _role_statements(dev, _autoscaler_role_id(dev))
    scaling = [s for s in statements if "autoscaling:SetDesiredCapacity" in _actions(s)]
    assert len(scaling) == 1
    (statement,) = scaling
    assert sorted(_actions(statement)) == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    # The condition key holds the generated cluster name, resolved at deploy time by a CfnJson resource.
    json_id = statement["Condition"]["Null"]["Fn::GetAtt"][0]
    condition = json.loads(_render(dev, _resources(dev)[json_id]["Properties"]["Value"]))
    assert condition == {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER_NAME}": "false"}
    for other in statements:
        if other is not statement:
            assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in _actions(other)), other


def test_autoscaler_starts_after_its_identity_and_the_node_group(dev):
    _, chart = _autoscaler(dev)
    resources = _resources(dev)
    (nodegroup_id,) = dev.template("Cluster").find_resources("AWS::EKS::Nodegroup")
    association_id = next(
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::EKS::PodIdentityAssociation"
        and r["Properties"]["ServiceAccount"] == "cluster-autoscaler"
    )
    assert {nodegroup_id, association_id} <= set(_depends_on(chart))


def test_auto_mode_has_no_cluster_autoscaler(auto):
    assert _helm_charts(auto, "cluster-autoscaler") == {}
    assert auto.stage.cluster.cluster_autoscaler is None
    for association in auto.template("Cluster").find_resources("AWS::EKS::PodIdentityAssociation").values():
        assert association["Properties"]["ServiceAccount"] != "cluster-autoscaler"


# 3. Control plane: standard support only, deletion protection from config.


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_cluster_never_enters_paid_extended_support(synthesized, variant):
    cluster = synthesized[variant].single_resource("Cluster", "AWS::EKS::Cluster")
    assert cluster["Properties"]["UpgradePolicy"] == {"SupportType": "STANDARD"}


def test_prod_cluster_is_protected_from_deletion(prod):
    assert prod.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]["DeletionProtection"] is True


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_other_clusters_can_be_destroyed(synthesized, variant):
    cluster = synthesized[variant].single_resource("Cluster", "AWS::EKS::Cluster")
    assert cluster["Properties"].get("DeletionProtection", False) is False


def test_deletion_protection_is_off_unless_an_environment_turns_it_on():
    assert environment_config("prod").deletion_protection is True
    assert environment_config("dev").deletion_protection is False


# 4. Auto Mode: the cluster role may tag what it creates (the backup StorageClass tags its volumes).


def _cluster_role_statements(synth: Synthesized) -> dict[str, dict[str, Any]]:
    cluster = synth.single_resource("Cluster", "AWS::EKS::Cluster")
    role_id = cluster["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return {s.get("Sid", ""): s for s in _role_statements(synth, role_id)}


def test_auto_mode_cluster_role_may_create_tagged_volumes(auto):
    statements = _cluster_role_statements(auto)
    assert set(statements) == {
        "Compute", "Storage", "Networking", "LoadBalancer", "ShieldProtection", "ShieldTagResource"
    }  # fmt: skip
    storage = statements["Storage"]
    assert sorted(_actions(storage)) == ["ec2:CreateSnapshot", "ec2:CreateVolume"]
    resources = sorted(_render(auto, r).replace("<token>", "aws") for r in storage["Resource"])
    assert resources == ["arn:aws:ec2:*:*:snapshot/*", "arn:aws:ec2:*:*:volume/*"]
    for statement in statements.values():
        assert statement["Condition"]["StringEquals"] == {
            "aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"
        }


def test_node_group_cluster_role_gets_no_tagging_rights(dev):
    assert _cluster_role_statements(dev) == {}


# 5. Outputs of the Cluster stack.


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_cluster_stack_outputs_what_an_operator_needs(synthesized, variant):
    synth = synthesized[variant]
    outputs = synth.template("Cluster").to_json()["Outputs"]
    for name in (
        "ClusterName",
        "ClusterArn",
        "ClusterEndpoint",
        "ClusterSecurityGroupId",
        "KubeconfigCommand",
    ):
        assert outputs[name]["Description"], name
    cluster_id = _cluster_id(synth)
    assert outputs["ClusterName"]["Value"] == {"Ref": cluster_id}
    assert outputs["ClusterArn"]["Value"] == {"Fn::GetAtt": [cluster_id, "Arn"]}
    assert _render(synth, outputs["KubeconfigCommand"]["Value"]) == (
        f"aws eks update-kubeconfig --region {synth.config.region} --name {CLUSTER_NAME}"
    )
