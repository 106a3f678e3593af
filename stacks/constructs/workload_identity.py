"""An IAM role for one Kubernetes service account, bound through EKS Pod Identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust_conditions(
    scope: Construct, *, cluster: eks.ICluster, namespace: str, service_account: str
) -> dict[str, dict[str, str]]:
    """Who may assume the role: EKS Auth in this account, for a Pod Identity association of this cluster,
    on behalf of this one service account.

    `aws:SourceAccount` and `aws:SourceArn` stop another account's (or another cluster's) association from
    using the role (confused deputy); the session tags EKS Pod Identity sets (`eks-cluster-arn`,
    `kubernetes-namespace`, `kubernetes-service-account`, EKS User Guide "Enable or disable session
    tags") pin it to one service account, so every pod role is its own.
    """
    stack = Stack.of(scope)
    association_arns = stack.format_arn(
        service="eks", resource="podidentityassociation", resource_name=f"{cluster.cluster_name}/*"
    )
    return {
        "StringEquals": {
            "aws:SourceAccount": stack.account,
            "aws:RequestTag/eks-cluster-arn": cluster.cluster_arn,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        },
        "ArnLike": {"aws:SourceArn": association_arns},
    }


def pod_identity_role(
    scope: Construct,
    id_: str,
    *,
    cluster: eks.ICluster,
    namespace: str,
    service_account: str,
    managed_policies: Sequence[iam.IManagedPolicy] = (),
) -> iam.Role:
    """A role EKS Pod Identity hands to the pods of `namespace/service_account` in `cluster` only (it needs
    sts:TagSession besides sts:AssumeRole)."""
    conditions = pod_identity_trust_conditions(
        scope, cluster=cluster, namespace=namespace, service_account=service_account
    )
    return iam.Role(
        scope,
        id_,
        assumed_by=iam.SessionTagsPrincipal(
            iam.PrincipalWithConditions(iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL), conditions)
        ),
        managed_policies=list(managed_policies) or None,
    )


class WorkloadIdentity(Construct):
    """`role` is assumed by the pods running as `service_account` in `namespace`, and by no one else."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        namespace: str,
        service_account: str,
    ) -> None:
        super().__init__(scope, id_)
        # jsii's Python stubs miss that Cluster implements ICluster.
        icluster = cast(eks.ICluster, cluster)
        self.role = pod_identity_role(
            self, "Role", cluster=icluster, namespace=namespace, service_account=service_account
        )
        self.association = eks.CfnPodIdentityAssociation(
            self,
            "Association",
            cluster_name=cluster.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=self.role.role_arn,
        )
