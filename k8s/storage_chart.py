"""The cluster's default StorageClass: encrypted gp3 volumes, provisioned by the mode's EBS CSI driver."""

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


class StorageChart(cdk8s.Chart):
    """A gp3, encrypted, default StorageClass, so a PVC binds with no extra step."""

    def __init__(self, scope: Construct, id_: str, *, capacity_mode: CapacityMode) -> None:
        super().__init__(scope, id_, disable_resource_name_hashes=True)
        self.storage_class = k8s.KubeStorageClass(
            self,
            "Gp3",
            metadata=k8s.ObjectMeta(
                name=DEFAULT_STORAGE_CLASS,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner=EBS_PROVISIONERS[capacity_mode],
            parameters={"type": "gp3", "encrypted": "true"},
            # Bind where the pod lands: an EBS volume lives in one zone.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # Keep data when a claim is deleted by mistake; reclaim volumes on purpose.
            reclaim_policy="Retain",
        )
