"""The watched workloads: the orders API and its Postgres database, with credentials, identity and backups."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cdk8s
from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

from config.monitoring import Collector
from config.platform import PlatformConfig
from config.workloads import IngressScheme
from k8s.app_namespace_chart import AppNamespaceChart
from k8s.images import image_reference
from k8s.network_policies_chart import NetworkPoliciesChart
from k8s.postgres_chart import PostgresChart
from k8s.secrets import DB_SECRET_PROVIDER_CLASS
from k8s.storage_chart import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from k8s.webapp_chart import WebappChart
from observability import names
from observability.model.service import Service
from stacks.cluster_stack import ClusterStack
from stacks.constructs.database_credentials import DatabaseCredentials
from stacks.constructs.platform_vpc import PlatformVpc
from stacks.constructs.volume_backup import VolumeBackup
from stacks.constructs.workload_identity import WorkloadIdentity
from stacks.kubernetes import apply_chart

WEBAPP_SOURCE = Path(__file__).resolve().parents[1] / "webapp"
WEBAPP_VERSION = "0.1.0"
_IMAGE_PLATFORMS = {"x86_64": ecr_assets.Platform.LINUX_AMD64, "arm64": ecr_assets.Platform.LINUX_ARM64}


class WorkloadsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        network: PlatformVpc,
        cluster_stack: ClusterStack,
        services: Sequence[Service] = (),
        **kwargs: Any,
    ) -> None:
        """`services`: every service; those in the app namespace get the agent admitted to their pods."""
        super().__init__(scope, id_, **kwargs)
        cluster = cluster_stack.platform_cluster.cluster
        workloads = config.workloads
        # One role per service account: the web app and Postgres each read the password with their own.
        self.webapp_identity = WorkloadIdentity(
            self,
            "WebappIdentity",
            cluster=cluster,
            namespace=names.APP_NAMESPACE,
            service_account=names.WEBAPP,
        )
        self.postgres_identity = WorkloadIdentity(
            self,
            "PostgresIdentity",
            cluster=cluster,
            namespace=names.APP_NAMESPACE,
            service_account=names.POSTGRES,
        )
        self.credentials = DatabaseCredentials(
            self,
            "DatabaseCredentials",
            username=names.POSTGRES_USER,
            readers=[self.webapp_identity.role, self.postgres_identity.role],
            customer_managed_key=workloads.database_secret_customer_managed_key,
        )
        # Staged into the cloud assembly at synth; built and pushed by `cdk deploy` (never at synth).
        # Nodes pull it with their AWS managed ECR read policy (node group and Auto Mode alike).
        # webapp/.dockerignore admits only the package and its requirements (no caches, tests, bench), so
        # the image hash changes with the app's sources only.
        self.image = ecr_assets.DockerImageAsset(
            self,
            "WebappImage",
            directory=str(WEBAPP_SOURCE),
            platform=_IMAGE_PLATFORMS[config.node_architecture],
        )
        self.backup = VolumeBackup(
            self,
            "DatabaseBackup",
            tag_key=BACKUP_TAG_KEY,
            tag_value=BACKUP_TAG_VALUE,
            schedule=workloads.backup_schedule,
            retention_days=workloads.backup_retention_days,
            vault_name=workloads.resolved_backup_vault_name(config.name),
            adopt_existing_vault=workloads.adopt_backup_vault,
        )

        load_balancer_subnets = network.load_balancer_subnets(
            internet_facing=workloads.ingress_scheme is IngressScheme.INTERNET_FACING
        )
        charts = cdk8s.App()
        self.namespace = apply_chart(
            self,
            "AppNamespace",
            cluster=cluster,
            chart=AppNamespaceChart(
                charts, "app-namespace", db_secret_arn=self.credentials.secret.secret_arn
            ),
        )
        # The SecretProviderClass kind comes with the CSI driver's chart.
        self.namespace.node.add_dependency(cluster_stack.secrets_store)
        self.postgres = apply_chart(
            self,
            "Postgres",
            cluster=cluster,
            chart=PostgresChart(
                charts,
                "postgres",
                resources=workloads.postgres_resources,
                volume_gib=workloads.postgres_volume_gib,
                secret_provider_class=DB_SECRET_PROVIDER_CLASS,
                image=image_reference("postgres", config.image_digests),
                exporter_image=image_reference("postgres-exporter", config.image_digests),
            ),
        )
        self.webapp = apply_chart(
            self,
            "Webapp",
            cluster=cluster,
            chart=WebappChart(
                charts,
                "webapp",
                image=self.image.image_uri,
                version=WEBAPP_VERSION,
                # The image's content hash: it changes with any change to the app's sources.
                revision=self.image.asset_hash,
                workloads=workloads,
                load_balancer_subnet_ids=[subnet.subnet_id for subnet in load_balancer_subnets],
                secret_provider_class=DB_SECRET_PROVIDER_CLASS,
                inbound_cidrs=workloads.ingress_inbound_cidrs(config.vpc_cidr),
            ),
        )
        self.network_policies = apply_chart(
            self,
            "NetworkPolicies",
            cluster=cluster,
            chart=NetworkPoliciesChart(
                charts,
                "network-policies",
                load_balancer_cidrs=[subnet.ipv4_cidr_block for subnet in load_balancer_subnets],
                capacity_mode=config.capacity_mode,
                services=[service for service in services if service.namespace == names.APP_NAMESPACE],
                # The managed collector scrapes from the node subnets (no agent pods then).
                scraper_cidrs=(
                    cluster_stack.node_subnet_cidrs
                    if config.monitoring.collector == Collector.MANAGED
                    else []
                ),
            ),
        )
        for manifest in (self.postgres, self.webapp, self.network_policies):
            manifest.node.add_dependency(self.namespace)
        self.postgres.node.add_dependency(cluster_stack.storage)
        self.webapp.node.add_dependency(cluster_stack.ingress_controller)
        # Pods mount the secret at start: their identity must exist first.
        self.webapp.node.add_dependency(self.webapp_identity.association)
        self.postgres.node.add_dependency(self.postgres_identity.association)

        CfnOutput(
            self,
            "BackupVaultName",
            value=self.backup.vault.backup_vault_name,
            description=(
                "AWS Backup vault of the database volume (kept after destroy; docs/operate/backup-restore.md)"
            ),
        )
        CfnOutput(
            self,
            "BackupRestoreRoleArn",
            value=self.backup.restore_role.role_arn,
            description=(
                "IAM role to pass to `aws backup start-restore-job --iam-role-arn` "
                "(docs/operate/backup-restore.md)"
            ),
        )
        CfnOutput(
            self,
            "DatabaseSecretArn",
            value=self.credentials.secret.secret_arn,
            description="Secrets Manager secret holding the Postgres password (the ARN, never the value)",
        )
        CfnOutput(
            self,
            "WebappImageUri",
            value=self.image.image_uri,
            description="The orders API image this deployment built and runs",
        )
