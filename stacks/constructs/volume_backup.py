"""AWS Backup for the EBS volumes tagged by the backed-up StorageClass (the Postgres data)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.nag import acknowledge, managed_policy


class VolumeBackup(Construct):
    """Snapshots every volume carrying `tag_key=tag_value` on `schedule`, kept `retention_days`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        tag_key: str,
        tag_value: str,
        schedule: str,
        retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self, "VaultKey", description="Encrypts the database backup vault", enable_key_rotation=True
        )
        # Retained by default: recovery points must survive the stack that made them.
        self.vault = backup.BackupVault(self, "Vault", encryption_key=self.key)
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
