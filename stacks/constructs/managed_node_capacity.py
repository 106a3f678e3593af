"""Node-group capacity: a managed node group plus the EKS managed add-ons a node-group cluster needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.constructs.managed_addon import managed_addon
from stacks.constructs.workload_identity import pod_identity_role
from stacks.nag import acknowledge, managed_policy

# Installed before the nodes join: networking and Pod Identity must work when the first pod starts.
_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
# Installed after the nodes join: their pods need a node to become ACTIVE.
_AFTER_NODES = ("coredns", "aws-ebs-csi-driver", "metrics-server")

_ADDON_CONFIGURATION: Mapping[str, Mapping[str, object]] = {
    # Enforce Kubernetes NetworkPolicy with the VPC CNI's eBPF agent.
    "vpc-cni": {"enableNetworkPolicy": "true"},
}
# Amazon Linux 2023: AL2 images are not published for the Kubernetes versions we run.
_AL2023_IMAGES = {
    "x86_64": eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
    "arm64": eks.NodegroupAmiType.AL2023_ARM_64_STANDARD,
}
EBS_CSI_CONTROLLER_SERVICE_ACCOUNT = "ebs-csi-controller-sa"


class ManagedNodeCapacity(Construct):
    """A managed node group in the node subnets and the add-ons vpc-cni, coredns, kube-proxy,
    eks-pod-identity-agent, aws-ebs-csi-driver (IAM through Pod Identity) and metrics-server."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        subnets: ec2.SubnetSelection,
        instance_types: Sequence[str],
        architecture: str,
        min_size: int,
        max_size: int,
        addon_versions: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self._cluster = cluster
        self._addon_versions = addon_versions
        self.ebs_csi_role = pod_identity_role(
            self,
            "EbsCsiRole",
            cluster=cast(eks.ICluster, cluster),
            namespace="kube-system",
            service_account=EBS_CSI_CONTROLLER_SERVICE_ACCOUNT,
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEBSCSIDriverPolicy")
            ],
        )
        self.addons: dict[str, eks.CfnAddon] = {}
        for name in (*_BEFORE_NODES, *_AFTER_NODES):
            self.addons[name] = self._addon(name)

        self.nodegroup = cluster.add_nodegroup_capacity(
            "Nodes",
            instance_types=[ec2.InstanceType(name) for name in instance_types],
            ami_type=_AL2023_IMAGES[architecture],
            min_size=min_size,
            desired_size=min_size,
            max_size=max_size,
            subnets=subnets,
            capacity_type=eks.CapacityType.ON_DEMAND,
            enable_node_auto_repair=True,
            max_unavailable=1,
        )
        for name in _BEFORE_NODES:
            self.nodegroup.node.add_dependency(self.addons[name])
        for name in _AFTER_NODES:
            self.addons[name].node.add_dependency(self.nodegroup)
        self._acknowledge()

    def _acknowledge(self) -> None:
        acknowledge(
            self.ebs_csi_role,
            managed_policy("service-role/AmazonEBSCSIDriverPolicy"),
            "The AWS managed policy the EBS CSI driver documents; AWS updates it with the driver.",
        )
        for policy in (
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ):
            acknowledge(
                self.nodegroup.role,
                managed_policy(policy),
                "The AWS managed policies EKS requires on a managed node group's role.",
            )

    def _addon(self, name: str) -> eks.CfnAddon:
        pod_identity = None
        if name == "aws-ebs-csi-driver":
            pod_identity = [
                eks.CfnAddon.PodIdentityAssociationProperty(
                    role_arn=self.ebs_csi_role.role_arn, service_account=EBS_CSI_CONTROLLER_SERVICE_ACCOUNT
                )
            ]
        return managed_addon(
            self,
            cluster=self._cluster,
            name=name,
            version=self._addon_versions.get(name),
            configuration=_ADDON_CONFIGURATION.get(name),
            pod_identity=pod_identity,
        )
