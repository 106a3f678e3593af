"""The EKS cluster as synthesized: version, security settings, capacity, add-ons and storage."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from config import KUBERNETES_VERSION
from tests.unit.conftest import Synthesized

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _logical_id(synth: Synthesized, resource_type: str, text: str) -> str:
    """The one resource of `resource_type` whose properties mention `text`."""
    resources = synth.template("Cluster").find_resources(resource_type)
    matches = [k for k, r in resources.items() if text in json.dumps(r["Properties"])]
    assert len(matches) == 1, f"expected one {resource_type} mentioning {text!r}, found {matches}"
    return matches[0]


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_cluster_runs_the_configured_kubernetes_version(synthesized, variant):
    cluster = synthesized[variant].single_resource("Cluster", "AWS::EKS::Cluster")
    assert cluster["Properties"]["Version"] == KUBERNETES_VERSION == "1.35"


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_secrets_are_envelope_encrypted_with_a_rotating_key(synthesized, variant):
    template = synthesized[variant].template("Cluster")
    keys = template.find_resources("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}})
    assert len(keys) == 1
    (key_id,) = keys
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "EncryptionConfig": [
                {"Provider": {"KeyArn": {"Fn::GetAtt": [key_id, "Arn"]}}, "Resources": ["secrets"]}
            ]
        },
    )


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_every_control_plane_log_type_is_enabled(synthesized, variant):
    cluster = synthesized[variant].single_resource("Cluster", "AWS::EKS::Cluster")
    enabled = [entry["Type"] for entry in cluster["Properties"]["Logging"]["ClusterLogging"]["EnabledTypes"]]
    assert sorted(enabled) == sorted(CONTROL_PLANE_LOG_TYPES)


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_control_plane_logs_expire_after_the_configured_retention(synthesized, variant):
    synth = synthesized[variant]
    cluster_id = next(iter(synth.template("Cluster").find_resources("AWS::EKS::Cluster")))
    retention = synth.single_resource("Cluster", "Custom::LogRetention")
    assert retention["Properties"]["LogGroupName"] == {
        "Fn::Join": ["", ["/aws/eks/", {"Ref": cluster_id}, "/cluster"]]
    }
    assert retention["Properties"]["RetentionInDays"] == synth.config.log_retention_days
    assert retention["Properties"]["RemovalPolicy"] == "retain"


def test_private_endpoint_when_configured_private(dev):
    vpc_config = dev.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]["ResourcesVpcConfig"]
    assert vpc_config["EndpointPrivateAccess"] is True
    assert vpc_config["EndpointPublicAccess"] is False


def test_public_endpoint_is_restricted_to_the_listed_cidrs(auto):
    vpc_config = auto.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]["ResourcesVpcConfig"]
    assert vpc_config["EndpointPrivateAccess"] is True
    assert vpc_config["EndpointPublicAccess"] is True
    assert vpc_config["PublicAccessCidrs"] == ["203.0.113.0/24"]


def test_deploying_role_gets_no_implicit_admin_and_listed_admins_do(auto):
    cluster = auto.single_resource("Cluster", "AWS::EKS::Cluster")
    assert cluster["Properties"]["AccessConfig"] == {
        "AuthenticationMode": "API",
        "BootstrapClusterCreatorAdminPermissions": False,
    }
    entries = auto.template("Cluster").find_resources(
        "AWS::EKS::AccessEntry",
        {"Properties": {"PrincipalArn": "arn:aws:iam::123456789012:role/PlatformAdmin"}},
    )
    assert len(entries) == 1
    (policy,) = next(iter(entries.values()))["Properties"]["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert "AmazonEKSClusterAdminPolicy" in json.dumps(policy["PolicyArn"])


def test_kubectl_handler_uses_the_v35_layer_in_the_vpc(dev):
    template = dev.template("Cluster")
    layers = template.find_resources("AWS::Lambda::LayerVersion")
    assert any("kubectl" in json.dumps(layer).lower() for layer in layers.values())
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Description": "onEvent handler for EKS kubectl resource provider",
            "VpcConfig": {"SubnetIds": Match.any_value(), "SecurityGroupIds": Match.any_value()},
        },
    )


def test_node_group_runs_in_private_subnets_with_configured_scaling(dev):
    nodegroup = dev.single_resource("Cluster", "AWS::EKS::Nodegroup")["Properties"]
    assert nodegroup["ScalingConfig"] == {"MinSize": 2, "DesiredSize": 2, "MaxSize": 4}
    assert nodegroup["InstanceTypes"] == ["m7i.large", "m6i.large"]
    assert nodegroup["AmiType"] == "AL2023_x86_64_STANDARD"
    subnet_outputs = json.dumps(nodegroup["Subnets"])
    assert subnet_outputs.count("PrivateSubnet") == 2
    assert "PublicSubnet" not in subnet_outputs


def test_prod_node_group_spans_three_zones(prod):
    nodegroup = prod.single_resource("Cluster", "AWS::EKS::Nodegroup")["Properties"]
    assert json.dumps(nodegroup["Subnets"]).count("PrivateSubnet") == 3
    assert nodegroup["ScalingConfig"] == {"MinSize": 3, "DesiredSize": 3, "MaxSize": 9}


def test_node_group_mode_installs_the_managed_addons(dev):
    addons = dev.template("Cluster").find_resources("AWS::EKS::Addon")
    names = sorted(a["Properties"]["AddonName"] for a in addons.values())
    assert names == sorted(
        [
            "vpc-cni",
            "coredns",
            "kube-proxy",
            "eks-pod-identity-agent",
            "aws-ebs-csi-driver",
            "metrics-server",
            "aws-secrets-store-csi-driver-provider",
        ]
    )


def test_vpc_cni_enforces_network_policy(dev):
    dev.template("Cluster").has_resource_properties(
        "AWS::EKS::Addon",
        {
            "AddonName": "vpc-cni",
            "ConfigurationValues": Match.serialized_json({"enableNetworkPolicy": "true"}),
        },
    )


def test_ebs_csi_driver_gets_its_role_through_pod_identity(dev):
    template = dev.template("Cluster")
    addon = next(
        a for a in template.find_resources("AWS::EKS::Addon").values()
        if a["Properties"]["AddonName"] == "aws-ebs-csi-driver"
    )  # fmt: skip
    (association,) = addon["Properties"]["PodIdentityAssociations"]
    assert association["ServiceAccount"] == "ebs-csi-controller-sa"
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    role = template.to_json()["Resources"][role_id]["Properties"]
    statement = role["AssumeRolePolicyDocument"]["Statement"]
    assert {"Service": "pods.eks.amazonaws.com"} in [s["Principal"] for s in statement]
    actions = {a for s in statement for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"sts:AssumeRole", "sts:TagSession"}
    assert "AmazonEBSCSIDriverPolicy" in json.dumps(role["ManagedPolicyArns"])


def test_addons_pods_wait_for_nodes_and_networking_precedes_them(dev):
    resources = dev.template("Cluster").to_json()["Resources"]
    nodegroup_id = next(k for k, r in resources.items() if r["Type"] == "AWS::EKS::Nodegroup")
    by_name = {
        r["Properties"]["AddonName"]: k for k, r in resources.items() if r["Type"] == "AWS::EKS::Addon"
    }
    for name in ("coredns", "aws-ebs-csi-driver", "metrics-server"):
        assert nodegroup_id in resources[by_name[name]]["DependsOn"], name
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert by_name[name] in resources[nodegroup_id]["DependsOn"], name


def test_addon_versions_are_unset_unless_configured(dev):
    for addon in dev.template("Cluster").find_resources("AWS::EKS::Addon").values():
        assert "AddonVersion" not in addon["Properties"]


@pytest.mark.parametrize(
    ("variant", "provisioner"), [("dev", "ebs.csi.aws.com"), ("auto", "ebs.csi.eks.amazonaws.com")]
)
def test_default_storage_class_is_encrypted_gp3(synthesized, variant, provisioner):
    storage_class = synthesized[variant].kubernetes_object("StorageClass", "gp3-encrypted")
    assert storage_class["provisioner"] == provisioner
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"


def test_storage_class_waits_for_the_csi_driver(dev):
    resources = dev.template("Cluster").to_json()["Resources"]
    storage_id = _logical_id(dev, "Custom::AWSCDK-EKS-KubernetesResource", "StorageClass")
    csi_id = _logical_id(dev, "AWS::EKS::Addon", "aws-ebs-csi-driver")
    assert csi_id in resources[storage_id]["DependsOn"]


def test_auto_mode_enables_compute_storage_and_load_balancing(auto):
    properties = auto.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]
    assert properties["ComputeConfig"]["Enabled"] is True
    assert properties["ComputeConfig"]["NodePools"] == ["system"]
    assert properties["StorageConfig"] == {"BlockStorage": {"Enabled": True}}
    assert properties["KubernetesNetworkConfig"]["ElasticLoadBalancing"] == {"Enabled": True}
    template = auto.template("Cluster")
    assert template.find_resources("AWS::EKS::Nodegroup") == {}
    # Only what Auto Mode lacks: metrics-server, for the web app's autoscaler, and the Secrets Store CSI
    # driver with its AWS provider.
    addons = template.find_resources("AWS::EKS::Addon")
    assert sorted(a["Properties"]["AddonName"] for a in addons.values()) == [
        "aws-secrets-store-csi-driver-provider",
        "metrics-server",
    ]


def test_auto_mode_turns_on_network_policy_for_the_workload_pool(auto):
    config_map = auto.kubernetes_object("ConfigMap", "amazon-vpc-cni")
    assert config_map["metadata"]["namespace"] == "kube-system"
    assert config_map["data"] == {"enable-network-policy-controller": "true"}
    node_class = auto.kubernetes_object("NodeClass", "workloads")
    assert node_class["spec"]["networkPolicy"] == "DefaultAllow"
    assert len(node_class["spec"]["subnetSelectorTerms"]) == 2
    node_pool = auto.kubernetes_object("NodePool", "workloads")
    assert node_pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "workloads"
    instance_types = next(
        r["values"] for r in node_pool["spec"]["template"]["spec"]["requirements"]
        if r["key"] == "node.kubernetes.io/instance-type"
    )  # fmt: skip
    assert instance_types == ["m7i.large", "m6i.large"]


def test_auto_mode_pool_is_capped_at_node_max_size_nodes(auto):
    """Auto Mode has no node count to cap: the pool's vCPU limit is node_max_size of the largest type."""
    node_pool = auto.kubernetes_object("NodePool", "workloads")
    assert node_pool["spec"]["limits"] == {"cpu": str(auto.config.node_max_size * 2)}  # *.large: 2 vCPUs
    assert auto.config.node_max_size == 4


def test_auto_mode_node_class_uses_the_cluster_node_role(auto):
    template = auto.template("Cluster")
    properties = auto.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]
    role_id = properties["ComputeConfig"]["NodeRoleArn"]["Fn::GetAtt"][0]
    manifest_id = _logical_id(auto, "Custom::AWSCDK-EKS-KubernetesResource", "NodeClass")
    manifest = template.to_json()["Resources"][manifest_id]["Properties"]["Manifest"]
    assert {"Ref": role_id} in manifest["Fn::Join"][1]


def test_stateful_resources_keep_their_logical_ids(dev):
    """Renaming these would replace the cluster (and everything in it): change them only on purpose."""
    resources = dev.template("Cluster").to_json()["Resources"]
    assert resources["EksClusterB2BDED5B"]["Type"] == "AWS::EKS::Cluster"
    assert resources["EksSecretsKey89C78FFD"]["Type"] == "AWS::KMS::Key"
