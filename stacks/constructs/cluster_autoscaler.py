"""The Kubernetes Cluster Autoscaler for the managed node group (Auto Mode scales itself)."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnJson, Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.constructs.workload_identity import WorkloadIdentity
from stacks.nag import acknowledge

CHART = "cluster-autoscaler"
REPOSITORY = "https://kubernetes.github.io/autoscaler"
# Chart 9.59.0 defaults to image v1.35.0 (kubernetes/autoscaler PR #10169); we pin the newest 1.35 patch,
# released 2026-07-23 (release cluster-autoscaler-1.35.2). The minor must match Kubernetes 1.35.
CHART_VERSION = "9.59.0"
IMAGE_TAG = "v1.35.2"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
# EKS tags every managed node group's Auto Scaling group with both keys; the autoscaler finds its groups
# by their presence and reads min/max from the group itself.
ENABLED_TAG = "k8s.io/cluster-autoscaler/enabled"
CLUSTER_TAG_PREFIX = "k8s.io/cluster-autoscaler/"
# The "full features" policy of cluster-autoscaler/cloudprovider/aws/README.md (auto-discovery, instance
# types looked up at run time): read-only calls, which take no resource-level restriction.
DESCRIBE_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
]
SCALING_ACTIONS = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]


class ClusterAutoscaler(Construct):
    """The official chart with auto-discovery by this cluster's tags, IAM through EKS Pod Identity."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.Cluster, nodegroup: eks.Nodegroup) -> None:
        super().__init__(scope, id_)
        icluster = cast(eks.ICluster, cluster)  # jsii's Python stubs miss that Cluster implements ICluster
        self.identity = WorkloadIdentity(
            self, "Identity", cluster=cluster, namespace=NAMESPACE, service_account=SERVICE_ACCOUNT
        )
        self.role = self.identity.role
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=DESCRIBE_ACTIONS, resources=["*"]))
        # Only groups carrying this cluster's discovery tag, whatever its value (discovery ignores values
        # too). The key holds the generated cluster name: CloudFormation takes no function in a key.
        tag_present = CfnJson(
            self,
            "ClusterTagPresent",
            value={f"aws:ResourceTag/{CLUSTER_TAG_PREFIX}{cluster.cluster_name}": "false"},
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=SCALING_ACTIONS, resources=["*"], conditions={"Null": tag_present})
        )
        self.values = {
            "cloudProvider": "aws",
            "awsRegion": Stack.of(self).region,
            "autoDiscovery": {"clusterName": cluster.cluster_name},
            "image": {"tag": IMAGE_TAG},
            "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
            "priorityClassName": "system-cluster-critical",
            # The chart's own suggestion; the pod is otherwise unbounded.
            "resources": {
                "requests": {"cpu": "100m", "memory": "300Mi"},
                "limits": {"cpu": "100m", "memory": "300Mi"},
            },
            "extraArgs": {
                # Keep the zones even: the node group spans one subnet per zone.
                "balance-similar-node-groups": True,
                "expander": "least-waste",
            },
        }
        self.chart = eks.HelmChart(
            self,
            "Chart",
            cluster=icluster,
            chart=CHART,
            repository=REPOSITORY,
            version=CHART_VERSION,
            namespace=NAMESPACE,
            release="cluster-autoscaler",
            values=self.values,
        )
        # Credentials are injected when the pod starts: the association must exist first.
        self.chart.node.add_dependency(self.identity.association)
        self.chart.node.add_dependency(nodegroup)
        acknowledge(
            self.role,
            "IAM5[Resource::*]",
            "The Cluster Autoscaler's AWS README policy: Describe calls take no resource restriction, and "
            "SetDesiredCapacity/TerminateInstanceInAutoScalingGroup are conditioned on this cluster's "
            "auto-discovery tag being present on the Auto Scaling group.",
        )
