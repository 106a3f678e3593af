"""What `make destroy` leaves behind: only what holds data someone needs (docs/operate/deploy.md)."""

from __future__ import annotations

import pytest

from observability import names

# (stack, logical id, type) of everything a stack deletion keeps, by variant. Prod adds the customer
# managed keys of the kept workspace and secret: their data cannot be read without them.
RETAINED_EVERYWHERE = {
    ("Workloads", "DatabaseCredentialsSecretB9204266", "AWS::SecretsManager::Secret"),
    ("Workloads", "DatabaseBackupVaultE800A316", "AWS::Backup::BackupVault"),
    ("Workloads", "DatabaseBackupVaultKeyEFBD5B74", "AWS::KMS::Key"),
    ("Monitoring", "PrometheusWorkspaceF3098DB6", "AWS::APS::Workspace"),
    # aws-cdk-lib's kubectl handler logs (expire after 731 days): deleting them with the stack would race
    # the last invocations, and Lambda would re-create them without a retention.
    ("Cluster", "EksClusterKubectlProviderHandlerLogGroup4E3D8320", "AWS::Logs::LogGroup"),
    ("Cluster", "EksClusterKubectlProviderframeworkonEventLogGroup018F2467", "AWS::Logs::LogGroup"),
}
RETAINED = {
    "dev": RETAINED_EVERYWHERE,
    "auto": RETAINED_EVERYWHERE,
    "prod": RETAINED_EVERYWHERE
    | {
        ("Workloads", "DatabaseCredentialsKey9A63B11F", "AWS::KMS::Key"),
        ("Monitoring", "PrometheusKeyD9577CA9", "AWS::KMS::Key"),
    },
}
# Keys whose ciphertext goes with their stack: the alert topics' (SNS keeps no delivered message) and the
# cluster's Secrets envelope key (etcd goes with the cluster).
DELETED_KEYS = (("Monitoring", "AlertsKey9E1197AF"), ("Cluster", "EksSecretsKey89C78FFD"))
WAL_STORAGE_CLASS = "gp3-encrypted-disposable"


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_only_data_outlives_the_stacks(synthesized, variant):
    kept = set()
    for role, template in synthesized[variant].templates.items():
        for logical_id, resource in template["Resources"].items():
            policies = {
                resource.get("DeletionPolicy", "Delete"),
                resource.get("UpdateReplacePolicy", "Delete"),
            }
            if policies != {"Delete"}:
                assert policies == {"Retain"}, f"{role}/{logical_id}: {policies}"
                kept.add((role, logical_id, resource["Type"]))
    assert kept == RETAINED[variant]


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_keys_of_deleted_ciphertext_are_deleted_after_the_shortest_window(synthesized, variant):
    for role, logical_id in DELETED_KEYS:
        key = synthesized[variant].templates[role]["Resources"][logical_id]
        assert key["Type"] == "AWS::KMS::Key"
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Delete", "Delete")
        # KMS's minimum (7 to 30 days); CloudFormation's default would be 30.
        assert key["Properties"]["PendingWindowInDays"] == 7


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_agent_wal_volume_goes_with_the_agent(synthesized, variant):
    synth = synthesized[variant]
    stateful_set = synth.kubernetes_object("StatefulSet", names.PROMETHEUS_AGENT)["spec"]
    # Deleted with the StatefulSet (GA since Kubernetes 1.32); kept while the agent is scaled to zero.
    assert stateful_set["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    (claim,) = stateful_set["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == WAL_STORAGE_CLASS
    storage_class = synth.kubernetes_object("StorageClass", WAL_STORAGE_CLASS)
    assert storage_class["reclaimPolicy"] == "Delete"
    assert storage_class["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "tagSpecification_1": "storage-class=gp3-encrypted-disposable",
    }
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "false"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_data_volumes_are_kept_when_their_claims_go(synthesized, variant):
    synth = synthesized[variant]
    for name in ("gp3-encrypted", "gp3-encrypted-backup"):
        assert synth.kubernetes_object("StorageClass", name)["reclaimPolicy"] == "Retain"
    postgres = synth.kubernetes_object("StatefulSet", names.POSTGRES)["spec"]
    (claim,) = postgres["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "gp3-encrypted-backup"
