"""The cluster probe: a Lambda function inside the stage's VPC that the post-deploy verification invokes to
check what only the private network reaches: the web app's rollout (Kubernetes API on the cluster's
private endpoint) and its readiness endpoint (on each pod's IP). Code: lambda/cluster_probe.

It needs no AWS API: the EKS token is a presigned STS URL, signed locally and checked by EKS. So its
security group opens exactly two flows, both to the cluster security group (control plane endpoint ENIs
and, in both capacity modes, the nodes whose ENIs carry the pods): HTTPS and the web app's port.
"""

from __future__ import annotations

from pathlib import Path

import cdk8s
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from k8s.verifier_access_chart import VERIFIER_GROUP, VerifierAccessChart
from observability import names
from stacks.kubernetes import apply_chart
from stacks.lambda_code import CODE_EXCLUDES
from stacks.nag import acknowledge, managed_policy
from webapp.orders_api import slo_contract

PROBE_CODE = Path(__file__).resolve().parents[2] / "lambda" / "cluster_probe"


class ClusterProbe(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        vpc: ec2.IVpc,
        subnets: list[ec2.ISubnet],
        log_retention: logs.RetentionDays,
        code_directory: Path = PROBE_CODE,
    ) -> None:
        super().__init__(scope, id_)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Cluster probe: HTTPS to the EKS API and the web app port on pods, nothing else",
            allow_all_outbound=False,
        )
        for flow, description in (
            (ec2.Port.HTTPS, "Kubernetes API (private endpoint)"),
            (ec2.Port.tcp(slo_contract.APP_PORT), "Web app readiness endpoint on pod IPs"),
        ):
            self.security_group.connections.allow_to(cluster.cluster_security_group, flow, description)

        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            description="Cluster probe: reads the web app's rollout through its EKS access entry",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        self.log_group.grant_write(self.role)
        # Lambda creates the function's network interfaces in our subnets with the function's role.
        self.role.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="Post-deploy verification: web app rollout and readiness, from inside the VPC",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="probe_handler.handler",
            code=lambda_.Code.from_asset(str(code_directory), exclude=CODE_EXCLUDES),
            timeout=Duration.seconds(60),
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=subnets),
            security_groups=[self.security_group],
            environment={
                "CLUSTER_NAME": cluster.cluster_name,
                "CLUSTER_ENDPOINT": cluster.cluster_endpoint,
                "CLUSTER_CA_DATA": cluster.cluster_certificate_authority_data,
                "APP_NAMESPACE": names.APP_NAMESPACE,
                "APP_NAME": names.WEBAPP,
                "APP_NAME_LABEL": names.NAME_LABEL,
                "APP_PORT": str(slo_contract.APP_PORT),
                "READYZ_PATH": slo_contract.READYZ_PATH,
            },
        )
        # Kubernetes identity: the group bound to the namespaced Role of the chart below; no access policy.
        self.access_entry = eks.CfnAccessEntry(
            self,
            "AccessEntry",
            cluster_name=cluster.cluster_name,
            principal_arn=self.role.role_arn,
            kubernetes_groups=[VERIFIER_GROUP],
            type="STANDARD",
        )
        self.access = apply_chart(
            self,
            "Access",
            cluster=cluster,
            chart=VerifierAccessChart(
                cdk8s.App(), "verifier-access", probe_cidrs=[subnet.ipv4_cidr_block for subnet in subnets]
            ),
        )
        acknowledge(
            self.function,
            "L1",
            "The probe targets Python 3.12 on purpose: it uses only the boto3 and urllib3 that runtime "
            "ships, and its tests run on that version; move it with them.",
        )
        acknowledge(
            self.role,
            managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"),
            "Lambda manages a VPC function's network interfaces in our subnets with the function's role; "
            "this AWS managed policy is the set AWS documents for that.",
        )
