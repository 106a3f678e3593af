"""A service account with a ClusterRole of its own, for the agents that read the Kubernetes API."""

from __future__ import annotations

from collections.abc import Sequence

from cdk8s_plus_35 import k8s
from constructs import Construct

from observability import names


class ClusterReader(Construct):
    """ServiceAccount, ClusterRole and ClusterRoleBinding, all named `name`, the account in `namespace`."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, namespace: str, rules: Sequence[k8s.PolicyRule]
    ) -> None:
        super().__init__(scope, id_)
        metadata = k8s.ObjectMeta(name=name, labels=names.labels(name))
        self.service_account = k8s.KubeServiceAccount(
            self,
            "ServiceAccount",
            metadata=k8s.ObjectMeta(name=name, namespace=namespace, labels=names.labels(name)),
        )
        self.cluster_role = k8s.KubeClusterRole(self, "ClusterRole", metadata=metadata, rules=list(rules))
        self.cluster_role_binding = k8s.KubeClusterRoleBinding(
            self,
            "ClusterRoleBinding",
            metadata=metadata,
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name),
            subjects=[k8s.Subject(kind="ServiceAccount", name=name, namespace=namespace)],
        )
