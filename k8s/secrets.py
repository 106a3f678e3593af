"""Database credentials through the Secrets Store CSI driver and the AWS provider (ASCP).

The password is generated in AWS Secrets Manager and mounted as a file into the pods that need it. No
Kubernetes Secret object exists, and no manifest, template or snapshot holds the value: only the secret's
ARN, which the provider resolves at mount time with the pod's own IAM role (EKS Pod Identity).
"""

from __future__ import annotations

import json

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from observability import names

DB_SECRET_PROVIDER_CLASS = "orders-db"  # noqa: S105 - an object name
CSI_DRIVER = "secrets-store.csi.k8s.io"
# Key of the JSON secret Secrets Manager generates (`{"username": ..., "password": ...}`).
PASSWORD_KEY = "password"  # noqa: S105 - a JSON key


class DatabaseSecretClass(Construct):
    """A SecretProviderClass that mounts the secret's `password` key as `db-password`."""

    def __init__(self, scope: Construct, id_: str, *, secret_arn: str) -> None:
        super().__init__(scope, id_)
        objects = [
            {
                "objectName": secret_arn,
                "objectType": "secretsmanager",
                "jmesPath": [{"path": PASSWORD_KEY, "objectAlias": names.DB_PASSWORD_FILE}],
            }
        ]
        self.api_object = cdk8s.ApiObject(
            self,
            "Resource",
            api_version="secrets-store.csi.x-k8s.io/v1",
            kind="SecretProviderClass",
            metadata=cdk8s.ApiObjectMetadata(name=DB_SECRET_PROVIDER_CLASS, namespace=names.APP_NAMESPACE),
        )
        # The provider reads `objects` as a YAML string; JSON is valid YAML and keeps the ARN token intact.
        self.api_object.add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec",
                {
                    "provider": "aws",
                    "parameters": {"objects": json.dumps(objects), "usePodIdentity": "true"},
                },
            )
        )


def secrets_volume(secret_provider_class: str) -> k8s.Volume:
    return k8s.Volume(
        name="secrets",
        csi=k8s.CsiVolumeSource(
            driver=CSI_DRIVER,
            read_only=True,
            volume_attributes={"secretProviderClass": secret_provider_class},
        ),
    )


def secrets_volume_mount() -> k8s.VolumeMount:
    return k8s.VolumeMount(name="secrets", mount_path=names.SECRETS_MOUNT_PATH, read_only=True)
