"""An IAM role for a set of Kubernetes service accounts, bound through EKS Pod Identity."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


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
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL))
        # Pod Identity needs sts:TagSession besides sts:AssumeRole.
        self.role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(
                actions=["sts:TagSession"], principals=[iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)]
            )
        )
        self.associations = [
            eks.CfnPodIdentityAssociation(
                self,
                "".join(part.capitalize() for part in account.split("-")),
                cluster_name=cluster.cluster_name,
                namespace=namespace,
                service_account=account,
                role_arn=self.role.role_arn,
            )
            for account in service_accounts
        ]
