"""The EKS cluster, its capacity (node group or Auto Mode) and the cluster-wide Kubernetes settings."""

from __future__ import annotations

from typing import Any

import cdk8s
from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from config.platform import CapacityMode, EndpointAccessMode, PlatformConfig
from config.workloads import IngressScheme
from k8s.storage_chart import StorageChart
from stacks.constructs.auto_mode_capacity import AutoModeCapacity
from stacks.constructs.cluster_autoscaler import ClusterAutoscaler
from stacks.constructs.eks_cluster import PlatformCluster
from stacks.constructs.managed_node_capacity import ManagedNodeCapacity
from stacks.constructs.platform_vpc import PlatformVpc
from stacks.constructs.secrets_store_csi import ADDON_NAME as SECRETS_STORE_ADDON
from stacks.constructs.secrets_store_csi import SecretsStoreCsi
from stacks.log_retention import retention_days


def endpoint_access(config: PlatformConfig) -> eks.EndpointAccess:
    if config.endpoint_access is EndpointAccessMode.PRIVATE:
        return eks.EndpointAccess.PRIVATE
    return eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*config.public_access_cidrs)


class ClusterStack(Stack):
    def __init__(
        self, scope: Construct, id_: str, *, config: PlatformConfig, network: PlatformVpc, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        # The managed collector's network interfaces go in the nodes' subnets (Monitoring stack); the
        # network policies admit it from their CIDRs.
        self.node_subnets = network.vpc.select_subnets(
            subnet_group_name=network.node_subnets.subnet_group_name
        )
        self.node_subnet_cidrs = [subnet.ipv4_cidr_block for subnet in self.node_subnets.subnets]
        self.platform_cluster = PlatformCluster(
            self,
            "Eks",
            vpc=network.vpc,
            node_subnets=network.node_subnets,
            kubernetes_version=config.kubernetes_version,
            capacity_mode=config.capacity_mode,
            endpoint_access=endpoint_access(config),
            admin_principal_arns=config.admin_principal_arns,
            log_retention=retention_days(config.log_retention_days),
            deletion_protection=config.deletion_protection,
        )
        cluster = self.platform_cluster.cluster
        charts = cdk8s.App()
        self.storage = cluster.add_cdk8s_chart(
            "Storage", StorageChart(charts, "storage", capacity_mode=config.capacity_mode)
        )
        self.node_capacity: ManagedNodeCapacity | None = None
        if config.capacity_mode is CapacityMode.NODEGROUP:
            self.node_capacity = ManagedNodeCapacity(
                self,
                "NodeCapacity",
                cluster=cluster,
                subnets=network.node_subnets,
                instance_types=config.node_instance_types,
                architecture=config.node_architecture,
                min_size=config.node_min_size,
                max_size=config.node_max_size,
                addon_versions=config.addon_versions,
            )
            # Volumes need the CSI driver; claims made right after the StorageClass must bind.
            self.storage.node.add_dependency(self.node_capacity.addons["aws-ebs-csi-driver"])
            assert cluster.alb_controller is not None  # PlatformCluster installs it in node-group mode
            self.ingress_controller: Construct = cluster.alb_controller
            # Auto Mode scales its own nodes; a node group needs the autoscaler to use node_max_size.
            self.cluster_autoscaler: ClusterAutoscaler | None = ClusterAutoscaler(
                self, "ClusterAutoscaler", cluster=cluster, nodegroup=self.node_capacity.nodegroup
            )
            capacity: Construct = self.node_capacity.nodegroup
        else:
            node_role = self.platform_cluster.auto_mode_node_role
            assert node_role is not None  # created by PlatformCluster in Auto Mode
            internet_facing = config.workloads.ingress_scheme is IngressScheme.INTERNET_FACING
            self.auto_mode = AutoModeCapacity(
                self,
                "AutoMode",
                cluster=cluster,
                node_role=node_role,
                node_subnet_ids=network.vpc.select_subnets(
                    subnet_group_name=network.node_subnets.subnet_group_name
                ).subnet_ids,
                load_balancer_subnet_ids=[
                    subnet.subnet_id
                    for subnet in network.load_balancer_subnets(internet_facing=internet_facing)
                ],
                instance_types=config.node_instance_types,
                cpu_limit=config.auto_mode_cpu_limit,
                ingress_scheme=config.workloads.ingress_scheme,
                tls_certificate_arn=config.workloads.tls_certificate_arn,
                metrics_server_version=config.addon_versions.get("metrics-server"),
            )
            self.ingress_controller = self.auto_mode.settings  # holds the IngressClass
            self.cluster_autoscaler = None
            capacity = self.auto_mode
        # Its DaemonSets need a Ready node; the Workloads stack's SecretProviderClasses wait for it.
        self.secrets_store = SecretsStoreCsi(
            self,
            "SecretsStoreCsi",
            cluster=cluster,
            version=config.addon_versions.get(SECRETS_STORE_ADDON),
            after=[capacity],
        )
        self._add_outputs(cluster)

    def _add_outputs(self, cluster: eks.Cluster) -> None:
        """What an operator needs after deploy: which cluster, and how to reach it."""
        CfnOutput(self, "ClusterName", value=cluster.cluster_name, description="Name of the EKS cluster")
        CfnOutput(self, "ClusterArn", value=cluster.cluster_arn, description="ARN of the EKS cluster")
        CfnOutput(
            self,
            "ClusterEndpoint",
            value=cluster.cluster_endpoint,
            description="Kubernetes API server endpoint (private-only unless public access is configured)",
        )
        CfnOutput(
            self,
            "ClusterSecurityGroupId",
            value=cluster.cluster_security_group_id,
            description="Security group EKS attaches to the control plane and nodes",
        )
        CfnOutput(
            self,
            "KubeconfigCommand",
            value=Fn.join(
                "", ["aws eks update-kubeconfig --region ", self.region, " --name ", cluster.cluster_name]
            ),
            description="Adds this cluster to your kubeconfig (needs an access entry: admin_principal_arns)",
        )
