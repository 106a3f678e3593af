"""The application namespace (Pod Security `restricted`) and what its pods share: the database secret."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from k8s.pod_security import PSS_RESTRICTED
from k8s.secrets import DatabaseSecretClass
from observability import names


class AppNamespaceChart(cdk8s.Chart):
    """Applied before the workloads: everything else in the namespace depends on it."""

    def __init__(self, scope: Construct, id_: str, *, db_secret_arn: str) -> None:
        super().__init__(scope, id_, disable_resource_name_hashes=True)
        self.app_namespace = k8s.KubeNamespace(
            self,
            "Namespace",
            metadata=k8s.ObjectMeta(
                name=names.APP_NAMESPACE, labels={**PSS_RESTRICTED, names.PART_OF_LABEL: names.PART_OF}
            ),
        )
        self.db_secret = DatabaseSecretClass(self, "DatabaseSecret", secret_arn=db_secret_arn)
        self.db_secret.node.add_dependency(self.app_namespace)
