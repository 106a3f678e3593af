"""AWS Backup for the EBS volumes tagged by the backed-up StorageClass (the Postgres data)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.nag import acknowledge, managed_policy

BACKUP_PRINCIPAL = "backup.amazonaws.com"


class VolumeBackup(Construct):
    """Snapshots every volume carrying `tag_key=tag_value` on `schedule`, kept `retention_days`, into the
    vault `vault_name`; `restore_role` is the role a restore job runs as.

    The vault is retained when the stack is deleted (its recovery points must outlive it), so it has a
    fixed name, and a later deployment adopts it (`adopt_existing_vault`) instead of failing on
    AlreadyExists.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        tag_key: str,
        tag_value: str,
        schedule: str,
        retention_days: int,
        vault_name: str,
        adopt_existing_vault: bool,
    ) -> None:
        super().__init__(scope, id_)
        self.key: kms.Key | None = None
        self.vault: backup.IBackupVault
        if adopt_existing_vault:
            self.vault = backup.BackupVault.from_backup_vault_name(self, "Vault", vault_name)
        else:
            self.key = kms.Key(
                self, "VaultKey", description="Encrypts the database backup vault", enable_key_rotation=True
            )
            # Retained by default, like the key that encrypts it.
            self.vault = backup.BackupVault(
                self, "Vault", backup_vault_name=vault_name, encryption_key=self.key
            )
        self.plan = backup.BackupPlan(self, "Plan", backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Scheduled",
                schedule_expression=events.Schedule.expression(schedule),
                delete_after=Duration.days(retention_days),
                start_window=Duration.hours(1),
                completion_window=Duration.hours(4),
            )
        )
        selection = self.plan.add_selection(
            "TaggedVolumes", resources=[backup.BackupResource.from_tag(tag_key, tag_value)]
        )
        acknowledge(
            selection,
            managed_policy("service-role/AWSBackupServiceRolePolicyForBackup"),
            "The AWS managed policy AWS Backup documents for its backup role; AWS extends it as Backup "
            "supports new resource types.",
        )
        # The selection's role may only take backups; a restore job needs a role that may create volumes.
        self.restore_role = iam.Role(
            self,
            "RestoreRole",
            description=(
                "Passed to AWS Backup restore jobs of the database volume (docs/operate/backup-restore.md)"
            ),
            assumed_by=iam.ServicePrincipal(BACKUP_PRINCIPAL),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSBackupServiceRolePolicyForRestores"
                )
            ],
        )
        acknowledge(
            self.restore_role,
            managed_policy("service-role/AWSBackupServiceRolePolicyForRestores"),
            "The AWS managed policy AWS Backup documents for restore jobs (creating an EBS volume from a "
            "snapshot, tagging it, using the snapshot's KMS key); AWS keeps it current.",
        )
