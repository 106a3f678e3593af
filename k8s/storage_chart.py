"""The cluster's StorageClasses: encrypted gp3 volumes, provisioned by the mode's EBS CSI driver."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.platform import CapacityMode

# Auto Mode ships its own EBS CSI driver under a different provisioner name.
EBS_PROVISIONERS = {
    CapacityMode.NODEGROUP: "ebs.csi.aws.com",
    CapacityMode.AUTO: "ebs.csi.eks.amazonaws.com",
}
DEFAULT_STORAGE_CLASS = "gp3-encrypted"
# Volumes of this class carry BACKUP_TAG, which the AWS Backup plan selects on.
BACKED_UP_STORAGE_CLASS = "gp3-encrypted-backup"
BACKUP_TAG_KEY = "backup-plan"
BACKUP_TAG_VALUE = "platform-databases"
# For data nobody needs once its claim is gone (the agent's WAL): the volume goes with the claim, also on
# `make destroy`. Its volumes carry the tag DISPOSABLE_TAG_KEY=<class name>, so a leftover (a cluster
# deleted before its CSI driver got to it) is easy to find.
DISPOSABLE_STORAGE_CLASS = "gp3-encrypted-disposable"
DISPOSABLE_TAG_KEY = "storage-class"


class StorageChart(cdk8s.Chart):
    """A gp3, encrypted, default StorageClass, so a PVC binds with no extra step; its twin whose volumes
    the AWS Backup plan covers; and a disposable one whose volumes are deleted with their claims."""

    def __init__(self, scope: Construct, id_: str, *, capacity_mode: CapacityMode) -> None:
        super().__init__(scope, id_, disable_resource_name_hashes=True)
        # Keep data when a claim is deleted by mistake; reclaim these volumes on purpose.
        self.storage_class = self._gp3(
            "Gp3", DEFAULT_STORAGE_CLASS, capacity_mode, default=True, tags={}, reclaim_policy="Retain"
        )
        self.backed_up_storage_class = self._gp3(
            "Gp3Backup",
            BACKED_UP_STORAGE_CLASS,
            capacity_mode,
            default=False,
            tags={BACKUP_TAG_KEY: BACKUP_TAG_VALUE},
            reclaim_policy="Retain",
        )
        self.disposable_storage_class = self._gp3(
            "Gp3Disposable",
            DISPOSABLE_STORAGE_CLASS,
            capacity_mode,
            default=False,
            tags={DISPOSABLE_TAG_KEY: DISPOSABLE_STORAGE_CLASS},
            reclaim_policy="Delete",
        )

    def _gp3(
        self,
        id_: str,
        name: str,
        capacity_mode: CapacityMode,
        *,
        default: bool,
        tags: dict[str, str],
        reclaim_policy: str,
    ) -> k8s.KubeStorageClass:
        # The EBS CSI driver tags each volume it creates with `tagSpecification_<n>: key=value`.
        tag_parameters = {f"tagSpecification_{i}": f"{k}={v}" for i, (k, v) in enumerate(tags.items(), 1)}
        return k8s.KubeStorageClass(
            self,
            id_,
            metadata=k8s.ObjectMeta(
                name=name,
                annotations={"storageclass.kubernetes.io/is-default-class": str(default).lower()},
            ),
            provisioner=EBS_PROVISIONERS[capacity_mode],
            parameters={"type": "gp3", "encrypted": "true", **tag_parameters},
            # Bind where the pod lands: an EBS volume lives in one zone.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy=reclaim_policy,
        )
