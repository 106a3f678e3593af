"""Default deny in the app namespace, then exactly the flows the workloads need.

Allowed, and nothing else:
  any pod        → CoreDNS (kube-system)   UDP/TCP 53
  load balancer  → web app                 TCP 8080 (from the load balancer subnets)
  web app        → Postgres                TCP 5432
  monitoring ns  → web app                 TCP 8080 (/metrics is served on the app port)
  monitoring ns  → Postgres exporter       TCP 9187
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from k8s import names

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _port(number: int, protocol: str = "TCP") -> k8s.NetworkPolicyPort:
    return k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(number), protocol=protocol)


def _pods(name: str) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=names.selector(name))


def _namespace(name: str) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels={NAMESPACE_NAME_LABEL: name})


class NetworkPoliciesChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id_: str, *, load_balancer_cidrs: Sequence[str]) -> None:
        super().__init__(scope, id_, namespace=names.APP_NAMESPACE, disable_resource_name_hashes=True)
        self.policies: dict[str, k8s.KubeNetworkPolicy] = {}
        self._policy(
            "default-deny-all",
            pods=k8s.LabelSelector(),
            ingress=[],
            egress=[],
        )
        self._policy(
            "allow-dns",
            pods=k8s.LabelSelector(),
            egress=[
                k8s.NetworkPolicyEgressRule(
                    to=[
                        k8s.NetworkPolicyPeer(
                            namespace_selector=_namespace("kube-system"),
                            pod_selector=k8s.LabelSelector(match_labels={"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=[_port(53, "UDP"), _port(53, "TCP")],
                )
            ],
        )
        self._policy(
            "webapp-from-load-balancer",
            pods=_pods(names.WEBAPP),
            ingress=[
                k8s.NetworkPolicyIngressRule(
                    # ALB targets are pod IPs (target type `ip`); traffic comes from the ALB's subnets.
                    from_=[
                        k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=cidr)) for cidr in load_balancer_cidrs
                    ],
                    ports=[_port(names.WEBAPP_PORT)],
                )
            ],
        )
        self._policy(
            "webapp-to-postgres",
            pods=_pods(names.WEBAPP),
            egress=[
                k8s.NetworkPolicyEgressRule(
                    to=[k8s.NetworkPolicyPeer(pod_selector=_pods(names.POSTGRES))],
                    ports=[_port(names.POSTGRES_PORT)],
                )
            ],
        )
        self._policy(
            "postgres-from-webapp",
            pods=_pods(names.POSTGRES),
            ingress=[
                k8s.NetworkPolicyIngressRule(
                    from_=[k8s.NetworkPolicyPeer(pod_selector=_pods(names.WEBAPP))],
                    ports=[_port(names.POSTGRES_PORT)],
                )
            ],
        )
        for workload, port in (
            (names.WEBAPP, names.WEBAPP_PORT),
            (names.POSTGRES, names.POSTGRES_EXPORTER_PORT),
        ):
            self._policy(
                f"{workload}-metrics-from-monitoring",
                pods=_pods(workload),
                ingress=[
                    k8s.NetworkPolicyIngressRule(
                        from_=[
                            k8s.NetworkPolicyPeer(namespace_selector=_namespace(names.MONITORING_NAMESPACE))
                        ],
                        ports=[_port(port)],
                    )
                ],
            )

    def _policy(
        self,
        name: str,
        *,
        pods: k8s.LabelSelector,
        ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
        egress: list[k8s.NetworkPolicyEgressRule] | None = None,
    ) -> None:
        policy_types = [
            kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None
        ]
        self.policies[name] = k8s.KubeNetworkPolicy(
            self,
            name,
            metadata=k8s.ObjectMeta(name=name, labels={names.PART_OF_LABEL: names.PART_OF}),
            spec=k8s.NetworkPolicySpec(
                pod_selector=pods, policy_types=policy_types, ingress=ingress, egress=egress
            ),
        )
