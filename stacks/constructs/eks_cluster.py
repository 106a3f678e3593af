"""The EKS control plane: version, encryption, logging, endpoint access, admins and the kubectl handler."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    Annotations,
    Aws,
    CfnOutput,
    CrossStackReferences,
    Duration,
    ReferenceStrength,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from config.platform import CapacityMode
from stacks.key_deletion import SHORTEST_KEY_DELETION_WINDOW
from stacks.nag import acknowledge, managed_policy

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
# aws-cdk-lib's LogRetention handler: one function per stack, under this id.
LOG_RETENTION_HANDLER_ID = "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
# EKS User Guide, "Custom AWS tags for EKS Auto resources" (Auto Mode cluster IAM role): the cluster role
# may create what Auto Mode provisions with user-defined tags, for its own cluster only.
AUTO_MODE_OWN_CLUSTER = {"aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"}
_ANY = ("*",)
AUTO_MODE_TAG_STATEMENTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str] | None], ...] = (
    (
        "Compute",
        ("ec2:CreateFleet", "ec2:RunInstances", "ec2:CreateLaunchTemplate"),
        _ANY,
        {
            "aws:RequestTag/eks:kubernetes-node-class-name": "*",
            "aws:RequestTag/eks:kubernetes-node-pool-name": "*",
        },
    ),
    (
        "Storage",
        ("ec2:CreateVolume", "ec2:CreateSnapshot"),
        ("arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"),
        None,
    ),
    (
        "Networking",
        ("ec2:CreateNetworkInterface",),
        _ANY,
        {"aws:RequestTag/eks:kubernetes-cni-node-name": "*"},
    ),
    (
        "LoadBalancer",
        (
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:CreateRule",
            "ec2:CreateSecurityGroup",
        ),
        _ANY,
        None,
    ),
    ("ShieldProtection", ("shield:CreateProtection",), _ANY, None),
    ("ShieldTagResource", ("shield:TagResource",), ("arn:aws:shield::*:protection/*",), None),
)
# The kubectl provider's entry point: its ARN is the `ServiceToken` of every manifest, in this stack and in
# the others. CloudFormation cannot change a custom resource's ServiceToken, so this function must never be
# replaced: its logical id is pinned to the one aws-cdk-lib 2.275 generated (deployed stacks keep their
# function), whatever a later aws-cdk-lib names it (docs/decisions/kubectl-service-token.md).
KUBECTL_ENTRY_POINT_LOGICAL_ID = "EksClusterKubectlProviderframeworkonEvent13CC64B3"
# The output (weak reference) the other stacks read the entry point through before it was pinned.
PRE_PIN_WEAK_OUTPUT_ID = "PublishOutputFnGetAttEksClusterKubectlProviderframeworkonEvent13CC64B3Arn5186E981"
# Node-group mode needs the AWS Load Balancer Controller for Ingress (Auto Mode has it built in).
ALB_CONTROLLER_VERSION = eks.AlbControllerVersion.V2_17_1


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
        log_retention: logs.RetentionDays,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, id_)
        # It encrypts only the cluster's own Secrets (in etcd, which goes with the cluster): it goes with it.
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            description="Envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=SHORTEST_KEY_DELETION_WINDOW,
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
            compute = eks.ComputeConfig(
                node_pools=AUTO_MODE_BUILTIN_POOLS, node_role=self.auto_mode_node_role
            )

        self.cluster = eks.Cluster(
            self,
            "Cluster",
            version=eks.KubernetesVersion.of(kubernetes_version),
            vpc=vpc,
            vpc_subnets=[node_subnets],
            endpoint_access=endpoint_access,
            secrets_encryption_key=self.secrets_key,
            cluster_logging=ALL_CONTROL_PLANE_LOGS,
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=KubectlV35Layer(self, "KubectlLayer")
            ),
            # Admins are listed explicitly; the deploying role (e.g. a pipeline's) gets no hidden admin grant.
            bootstrap_cluster_creator_admin_permissions=False,
            default_capacity_type=(
                eks.DefaultCapacityType.AUTOMODE
                if capacity_mode is CapacityMode.AUTO
                else eks.DefaultCapacityType.NODEGROUP
            ),
            # Node-group capacity is added with explicit settings by the stack.
            default_capacity=None if capacity_mode is CapacityMode.AUTO else 0,
            compute=compute,
            alb_controller=(
                None
                if capacity_mode is CapacityMode.AUTO
                else eks.AlbControllerOptions(version=ALB_CONTROLLER_VERSION)
            ),
        )
        self._set_control_plane_policies(deletion_protection=deletion_protection)
        self._pin_kubectl_service_token()
        if self.auto_mode_node_role is not None:
            self._allow_auto_mode_custom_tags()
        for index, arn in enumerate(admin_principal_arns):
            self.cluster.grant_cluster_admin(f"Admin{index}", arn)
        # EKS creates the control-plane log group itself, without retention: logs would be kept (and
        # billed) forever. This creates it if EKS has not yet, and sets the retention. The group is
        # retained with the stack's deletion: the audit trail outlives the cluster until it expires.
        self.control_plane_log_retention = logs.LogRetention(
            self,
            "ControlPlaneLogRetention",
            log_group_name=f"/aws/eks/{self.cluster.cluster_name}/cluster",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self._acknowledge_generated_resources()

    def _set_control_plane_policies(self, *, deletion_protection: bool) -> None:
        """aws-cdk-lib 2.275's `Cluster` exposes neither property: set them on its `AWS::EKS::Cluster`."""
        cfn_cluster = self.cluster.node.default_child
        assert isinstance(cfn_cluster, eks.CfnCluster)
        # EKS's default, EXTENDED, silently bills extended support when standard support ends; STANDARD
        # upgrades the control plane to the next version instead.
        cfn_cluster.upgrade_policy = eks.CfnCluster.UpgradePolicyProperty(support_type="STANDARD")
        cfn_cluster.deletion_protection = deletion_protection

    def _pin_kubectl_service_token(self) -> None:
        """Keep the kubectl `ServiceToken` the same function for the life of the cluster.

        A weak reference (`Fn::GetStackOutput`, cdk.json's default) would let a replaced function reach the
        other stacks' manifests as a new ServiceToken, which CloudFormation refuses to change, after the old
        function is gone. A strong one (`Fn::ImportValue` of an export) makes CloudFormation refuse to
        change the export while another stack imports it, so the Cluster stack's update fails before the
        old function is deleted.
        """
        provider = self.cluster.node.find_child("KubectlProvider").node.find_child("Provider")
        entry_point = provider.node.find_child("framework-onEvent")
        assert isinstance(entry_point, lambda_.Function)
        cfn_function = entry_point.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.override_logical_id(KUBECTL_ENTRY_POINT_LOGICAL_ID)
        CrossStackReferences.of(entry_point).produce(ReferenceStrength.STRONG)
        # Stacks deployed before read it through this weak output: it stays, so that rolling back their
        # first update to the strong reference still finds it.
        legacy = CfnOutput(self, "WeakKubectlServiceToken", value=entry_point.function_arn)
        legacy.override_logical_id(PRE_PIN_WEAK_OUTPUT_ID)

    def _allow_auto_mode_custom_tags(self) -> None:
        """Auto Mode's managed policies refuse user-defined tags on what it creates (our backup
        StorageClass tags its volumes). These are the statements of the EKS User Guide's "Custom AWS tags
        for EKS Auto resources": each create call only for resources tagged with this cluster's name."""
        arn = f"arn:{Aws.PARTITION}"
        for sid, actions, resources, like in AUTO_MODE_TAG_STATEMENTS:
            conditions: dict[str, object] = {"StringEquals": AUTO_MODE_OWN_CLUSTER}
            if like:
                conditions["StringLike"] = like
            self.cluster.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid=sid,
                    actions=list(actions),
                    resources=[r.replace("arn:aws", arn) for r in resources],
                    conditions=conditions,
                )
            )

    def _acknowledge_generated_resources(self) -> None:
        """Findings on resources aws-cdk-lib generates inside the cluster construct."""
        acknowledge(
            self.cluster.role,
            managed_policy("AmazonEKSClusterPolicy"),
            "EKS requires this AWS managed policy on the cluster service role; AWS keeps it current.",
        )
        if self.auto_mode_node_role is not None:
            for policy in ("AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy",
                           "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"):  # fmt: skip
                acknowledge(
                    self.cluster.role,
                    managed_policy(policy),
                    "EKS Auto Mode requires this AWS managed policy on the cluster role to run compute, "
                    "storage, load balancing and networking for us.",
                )
            self._acknowledge_custom_tags()
            for policy in ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"):
                acknowledge(
                    self.auto_mode_node_role,
                    managed_policy(policy),
                    "The minimal AWS managed policies EKS Auto Mode documents for its node role.",
                )
        retention_handler = Stack.of(self).node.find_child(LOG_RETENTION_HANDLER_ID)
        acknowledge(
            retention_handler,
            managed_policy("service-role/AWSLambdaBasicExecutionRole"),
            "aws-cdk-lib's log retention handler writes its own logs and creates the control-plane log "
            "group when EKS has not yet; this AWS managed policy is exactly that.",
        )
        acknowledge(
            retention_handler,
            "IAM5[Resource::*]",
            "aws-cdk-lib's log retention handler may only put or delete retention policies; it is shared by "
            "the stack's log groups, and EKS names the control-plane one after a generated cluster name.",
        )
        if self.cluster.vpc.isolated_subnets:  # no NAT: private subnets are isolated
            Annotations.of(self.cluster).acknowledge_warning(
                "@aws-cdk/aws-eks:isolatedSubnetsForKubectlPrivateSubnets",
                "PlatformVpc adds the STS, EKS, EKS Auth, ECR, EC2, Logs interface and S3 gateway endpoints "
                "whenever the VPC has no NAT gateway.",
            )
        if self.cluster.alb_controller is not None:
            self._acknowledge_alb_controller(self.cluster.alb_controller)
        provider = self.cluster.node.find_child("KubectlProvider")
        for policy in (
            "service-role/AWSLambdaBasicExecutionRole",
            "service-role/AWSLambdaVPCAccessExecutionRole",
        ):
            acknowledge(
                provider,
                managed_policy(policy),
                "aws-cdk-lib's kubectl handler and its provider framework run in the VPC (private API "
                "endpoint) and need these AWS managed Lambda policies for logs and network interfaces.",
            )
        acknowledge(
            provider,
            managed_policy("AmazonEC2ContainerRegistryReadOnly"),
            "The kubectl handler pulls Helm charts from ECR; read-only access is the least it needs.",
        )
        acknowledge(
            provider,
            'IAM4[Policy::{"Fn::If":["EksClusterKubectlProviderHandlerHasEcrPublicC426D1A5",{"Fn::Join":'
            '["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistry'
            'PublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]',
            "Read-only ECR Public access, attached by aws-cdk-lib only in partitions that have ECR Public, "
            "for public Helm charts.",
        )
        acknowledge(
            provider,
            "IAM5[Resource::<EksClusterKubectlProviderHandlerDA75FB7A.Arn>:*]",
            "The provider framework may invoke any version of the kubectl handler function, and only it.",
        )
        acknowledge(
            provider.node.find_child("Handler"),
            "L1",
            "aws-cdk-lib pins the kubectl handler to the newest Python runtime it has tested with the layer.",
        )

    def _acknowledge_custom_tags(self) -> None:
        reason = (
            "The EKS User Guide's custom-tags policy for Auto Mode: Auto Mode names the instances, volumes, "
            "network interfaces and load balancers it creates at run time; every statement only allows "
            "requests that tag the new resource with this cluster's name."
        )
        for resource in (
            "*",
            "arn:<AWS::Partition>:ec2:*:*:volume/*",
            "arn:<AWS::Partition>:ec2:*:*:snapshot/*",
            "arn:<AWS::Partition>:shield::*:protection/*",
        ):
            acknowledge(self.cluster.role, f"IAM5[Resource::{resource}]", reason)

    @staticmethod
    def _acknowledge_alb_controller(controller: Construct) -> None:
        reason = (
            "The IAM policy AWS publishes for the AWS Load Balancer Controller (embedded by aws-cdk-lib): "
            "the controller creates load balancers, target groups and security groups whose names it only "
            "knows at run time, and its mutating actions are conditioned on the `elbv2.k8s.aws/cluster` tag."
        )
        elb = "arn:<AWS::Partition>:elasticloadbalancing:*:*"
        for resource in (
            "*",
            "arn:<AWS::Partition>:ec2:*:*:security-group/*",
            f"{elb}:loadbalancer/app/*/*",
            f"{elb}:loadbalancer/net/*/*",
            f"{elb}:targetgroup/*/*",
            f"{elb}:listener-rule/app/*/*/*",
            f"{elb}:listener-rule/net/*/*/*",
            f"{elb}:listener/app/*/*/*",
            f"{elb}:listener/net/*/*/*",
        ):
            acknowledge(controller, f"IAM5[Resource::{resource}]", reason)
