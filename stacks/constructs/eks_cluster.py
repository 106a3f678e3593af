"""The EKS control plane: version, encryption, logging, endpoint access, admins and the kubectl handler."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from config.platform import CapacityMode

ALL_CONTROL_PLANE_LOGS = [
    eks.ClusterLoggingTypes.API,
    eks.ClusterLoggingTypes.AUDIT,
    eks.ClusterLoggingTypes.AUTHENTICATOR,
    eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    eks.ClusterLoggingTypes.SCHEDULER,
]
# Built-in Auto Mode pool kept for cluster-critical add-ons; workloads go to our own pool, whose
# NodeClass enables network policy (the built-in NodeClass cannot be changed).
AUTO_MODE_BUILTIN_POOLS = ["system"]


class PlatformCluster(Construct):
    """An `aws_eks_v2` cluster. Capacity comes from a managed node group or EKS Auto Mode."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        node_subnets: ec2.SubnetSelection,
        kubernetes_version: str,
        capacity_mode: CapacityMode,
        endpoint_access: eks.EndpointAccess,
        admin_principal_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            description="Envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
        )
        # Auto Mode nodes take this role; our own NodeClass names it too, so we create it ourselves.
        self.auto_mode_node_role: iam.Role | None = None
        compute = None
        if capacity_mode is CapacityMode.AUTO:
            self.auto_mode_node_role = iam.Role(
                self,
                "AutoModeNodeRole",
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKSWorkerNodeMinimalPolicy"),
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEC2ContainerRegistryPullOnly"),
                ],
            )
            compute = eks.ComputeConfig(node_pools=AUTO_MODE_BUILTIN_POOLS, node_role=self.auto_mode_node_role)

        self.cluster = eks.Cluster(
            self,
            "Cluster",
            version=eks.KubernetesVersion.of(kubernetes_version),
            vpc=vpc,
            vpc_subnets=[node_subnets],
            endpoint_access=endpoint_access,
            secrets_encryption_key=self.secrets_key,
            cluster_logging=ALL_CONTROL_PLANE_LOGS,
            kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(self, "KubectlLayer")),
            # Admins are listed explicitly; the deploying role (e.g. a pipeline's) gets no hidden admin grant.
            bootstrap_cluster_creator_admin_permissions=False,
            default_capacity_type=(
                eks.DefaultCapacityType.AUTOMODE
                if capacity_mode is CapacityMode.AUTO
                else eks.DefaultCapacityType.NODEGROUP
            ),
            default_capacity=0,  # node-group capacity is added with explicit settings by the stack
            compute=compute,
        )
        for index, arn in enumerate(admin_principal_arns):
            self.cluster.grant_cluster_admin(f"Admin{index}", arn)
