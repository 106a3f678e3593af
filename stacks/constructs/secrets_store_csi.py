"""The Secrets Store CSI driver with the AWS provider (ASCP): Secrets Manager secrets as mounted files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IConstruct

from stacks.constructs.managed_addon import managed_addon

# The EKS add-on packages the ASCP Helm chart, which brings the Secrets Store CSI driver as a subchart.
ADDON_NAME = "aws-secrets-store-csi-driver-provider"
# Mount only: never copy secret values into Kubernetes Secret objects. The add-on passes the driver
# subchart's values through unvalidated (AWS Secrets Manager user guide, "Install ASCP for Amazon EKS").
ADDON_CONFIGURATION: Mapping[str, object] = {"secrets-store-csi-driver": {"syncSecret": {"enabled": False}}}


class SecretsStoreCsi(Construct):
    """Chosen over External Secrets Operator: no Kubernetes Secret object ever holds the value, and pods
    authenticate with their own Pod Identity role rather than one controller role for every secret.

    An EKS add-on rather than the Helm chart: EKS picks a build for the cluster version, and no Helm hook
    Job can hold the Cluster stack until it times out. Its DaemonSets need nodes, hence `after`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        version: str | None,
        after: Sequence[IConstruct],
    ) -> None:
        super().__init__(scope, id_)
        self.addon = managed_addon(
            self, cluster=cluster, name=ADDON_NAME, version=version, configuration=ADDON_CONFIGURATION
        )
        for capacity in after:
            self.addon.node.add_dependency(capacity)
