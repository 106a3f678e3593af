"""What the cluster probe of the post-deploy verification may do in the app namespace, and nothing more.

RBAC: the probe's IAM role maps (EKS access entry) to the Kubernetes group below, bound to a Role that may
read the web app's Deployment (by name) and list the namespace's pods (for their readiness and IPs).

Network: the probe calls each web app pod's readiness endpoint on its pod IP from its own subnets, the
internal load balancer subnets (stacks/constructs/cluster_probe.py), which hold no pods. This policy admits
those subnets to the web app's port only; every other pod and port stays behind the default deny.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from k8s.network_policy_rules import ip_block, network_policy, pods, port
from observability import names
from webapp.orders_api import slo_contract

# The group the probe's access entry names (a name of our own: Kubernetes reserves the `system:` prefix).
VERIFIER_GROUP = "platform:deployment-verifier"
VERIFIER = "deployment-verifier"
READYZ_POLICY = "webapp-readyz-from-verifier"


class VerifierAccessChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id_: str, *, probe_cidrs: Sequence[str]) -> None:
        super().__init__(scope, id_, namespace=names.APP_NAMESPACE, disable_resource_name_hashes=True)
        metadata = k8s.ObjectMeta(name=VERIFIER, labels={names.PART_OF_LABEL: names.PART_OF})
        self.role = k8s.KubeRole(
            self,
            "Role",
            metadata=metadata,
            rules=[
                # `get` by name: the Deployment's generation, replica counts and conditions.
                k8s.PolicyRule(
                    api_groups=["apps"],
                    resources=["deployments"],
                    resource_names=[names.WEBAPP],
                    verbs=["get"],
                ),
                # `list` cannot be narrowed by name; the probe selects the web app's pods by label.
                k8s.PolicyRule(api_groups=[""], resources=["pods"], verbs=["list"]),
            ],
        )
        self.role_binding = k8s.KubeRoleBinding(
            self,
            "RoleBinding",
            metadata=metadata,
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=VERIFIER),
            subjects=[k8s.Subject(kind="Group", name=VERIFIER_GROUP, api_group="rbac.authorization.k8s.io")],
        )
        self.readyz_policy = network_policy(
            self,
            READYZ_POLICY,
            selected=pods(names.WEBAPP),
            ingress=[
                k8s.NetworkPolicyIngressRule(
                    from_=[ip_block(cidr) for cidr in probe_cidrs], ports=[port(slo_contract.APP_PORT)]
                )
            ],
        )
