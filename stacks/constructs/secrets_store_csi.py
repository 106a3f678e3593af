"""The Secrets Store CSI driver with the AWS provider (ASCP): Secrets Manager secrets as mounted files."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

# The ASCP chart installs a compatible Secrets Store CSI driver as a dependency.
ASCP_CHART = "secrets-store-csi-driver-provider-aws"
ASCP_REPOSITORY = "https://aws.github.io/secrets-store-csi-driver-provider-aws"
ASCP_CHART_VERSION = "3.2.0"


class SecretsStoreCsi(Construct):
    """Chosen over External Secrets Operator: no Kubernetes Secret object ever holds the value, and pods
    authenticate with their own Pod Identity role rather than one controller role for every secret."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster) -> None:
        super().__init__(scope, id_)
        self.chart = eks.HelmChart(
            self,
            "Chart",
            cluster=cluster,
            chart=ASCP_CHART,
            repository=ASCP_REPOSITORY,
            version=ASCP_CHART_VERSION,
            namespace="kube-system",
            release="secrets-store-csi",
            values={
                # Mount only: never copy secret values into Kubernetes Secret objects.
                "secrets-store-csi-driver": {"syncSecret": {"enabled": False}},
            },
        )
