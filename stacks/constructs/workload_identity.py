"""An IAM role for a set of Kubernetes service accounts, bound through EKS Pod Identity."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.naming import construct_id

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_role(
    scope: Construct, id_: str, *, managed_policies: Sequence[iam.IManagedPolicy] = ()
) -> iam.Role:
    """A role EKS Pod Identity can hand to pods (it needs sts:TagSession besides sts:AssumeRole)."""
    return iam.Role(
        scope,
        id_,
        assumed_by=iam.SessionTagsPrincipal(iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)),
        managed_policies=list(managed_policies) or None,
    )


class WorkloadIdentity(Construct):
    """`role` is assumed by pods running as any of `service_accounts` in `namespace`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        namespace: str,
        service_accounts: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.role = pod_identity_role(self, "Role")
        self.associations = [
            eks.CfnPodIdentityAssociation(
                self,
                construct_id(account),
                cluster_name=cluster.cluster_name,
                namespace=namespace,
                service_account=account,
                role_arn=self.role.role_arn,
            )
            for account in service_accounts
        ]
