"""The VPC every workload runs in: public subnets for load balancers, private subnets for nodes."""

from __future__ import annotations

from aws_cdk import Annotations, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

# Interface endpoints the cluster needs when private subnets have no NAT route: image pulls (ECR + S3),
# IAM for pods (STS, EKS Auth for Pod Identity), node bootstrap (EKS, EC2), logs, and the platform's
# own data paths: the database password (Secrets Manager, read by the CSI provider) and remote write to
# Amazon Managed Prometheus (aps-workspaces).
_ISOLATED_NODE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Eks": ec2.InterfaceVpcEndpointAwsService.EKS,
    "EksAuth": ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
    "Ec2": ec2.InterfaceVpcEndpointAwsService.EC2,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "PrometheusWorkspaces": ec2.InterfaceVpcEndpointAwsService.PROMETHEUS_WORKSPACES,
}


# Shown by every synth of a VPC without NAT: what the endpoints do not cover.
ISOLATED_WARNING_ID = "platform:isolatedSubnetsNeedMirrors"
ISOLATED_WARNING = (
    "nat_gateways=0: nodes and the kubectl handler have no route to the internet. AWS APIs are reached "
    "through VPC endpoints, but images from quay.io, registry.k8s.io and ECR Public and the Helm charts "
    "(Cluster Autoscaler, AWS Load Balancer Controller) are not: mirror them into this account "
    "(ECR pull-through cache rules) before deploying. See docs/decisions/no-nat.md."
)

NODE_SUBNETS = "Private"
INTERNAL_LB_SUBNETS = "InternalLoadBalancers"


class PlatformVpc(Construct):
    """A VPC over the given zones with flow logs; nodes go in `node_subnets`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cidr: str,
        availability_zones: tuple[str, ...],
        nat_gateways: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        private_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways > 0 else ec2.SubnetType.PRIVATE_ISOLATED
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                # Pods take VPC addresses (VPC CNI): give nodes the large subnets.
                ec2.SubnetConfiguration(name=NODE_SUBNETS, subnet_type=private_type, cidr_mask=20),
                # Internal load balancers get subnets of their own, so network policies can admit
                # "traffic from the load balancer" by CIDR without admitting every pod.
                ec2.SubnetConfiguration(name=INTERNAL_LB_SUBNETS, subnet_type=private_type, cidr_mask=24),
            ],
            restrict_default_security_group=True,
        )
        self.node_subnets = ec2.SubnetSelection(subnet_group_name=NODE_SUBNETS)

        self.flow_log_group = logs.LogGroup(
            self, "FlowLogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # S3 gateway endpoints are free and keep image layer pulls off the NAT gateways.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        if nat_gateways == 0:
            Annotations.of(self).add_warning_v2(ISOLATED_WARNING_ID, ISOLATED_WARNING)
            for endpoint_id, service in _ISOLATED_NODE_ENDPOINTS.items():
                endpoint = self.vpc.add_interface_endpoint(
                    endpoint_id, service=service, subnets=self.node_subnets, open=False
                )
                # HTTPS from inside the VPC only, stated as the literal CIDR so it can be checked at synth.
                endpoint.connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.HTTPS)

    def load_balancer_subnets(self, *, internet_facing: bool) -> list[ec2.ISubnet]:
        """Where the application load balancer goes: public subnets, or the internal ones."""
        if internet_facing:
            return list(self.vpc.public_subnets)
        return list(self.vpc.select_subnets(subnet_group_name=INTERNAL_LB_SUBNETS).subnets)
