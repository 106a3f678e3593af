"""Default deny in the app namespace, then exactly the flows the workloads need.

Allowed, and nothing else:
  any pod        → cluster DNS             UDP/TCP 53 (CoreDNS pods; in Auto Mode the node's DNS service)
  load balancer  → web app                 TCP 8080 (from the load balancer subnets)
  web app        → Postgres                TCP 5432
  metrics agent  → each service here       its metrics port (services/<name>/service.yaml; the web
                                           app: TCP 8080, /metrics is served on the app port)
  metrics agent  → Postgres exporter       TCP 9187
(With `monitoring.collector: managed` the metrics flows come from the managed collector's subnets.)
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.platform import CapacityMode
from k8s.network_policy_rules import NAMESPACE_NAME_LABEL, dns_egress, ip_block, network_policy, pods, port
from k8s.service_network_policy import agent_ingress
from observability import names
from observability.model.service import Service
from webapp.orders_api import slo_contract

__all__ = ["NAMESPACE_NAME_LABEL", "NetworkPoliciesChart"]


class NetworkPoliciesChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        load_balancer_cidrs: Sequence[str],
        capacity_mode: CapacityMode,
        services: Sequence[Service] = (),
        scraper_cidrs: Sequence[str] = (),
    ) -> None:
        """`services`: the services whose pods run in this namespace (their service files): each admits the
        agent on its metrics port (or `scraper_cidrs`, the managed collector's subnets, when given)."""
        super().__init__(scope, id_, namespace=names.APP_NAMESPACE, disable_resource_name_hashes=True)
        self.policies: dict[str, k8s.KubeNetworkPolicy] = {}
        self._policy("default-deny-all", selected=k8s.LabelSelector(), ingress=[], egress=[])
        self._policy("allow-dns", selected=k8s.LabelSelector(), egress=[dns_egress(capacity_mode)])
        self._policy(
            "webapp-from-load-balancer",
            selected=pods(names.WEBAPP),
            ingress=[
                k8s.NetworkPolicyIngressRule(
                    # ALB targets are pod IPs (target type `ip`); traffic comes from the ALB's subnets.
                    from_=[ip_block(cidr) for cidr in load_balancer_cidrs],
                    ports=[port(slo_contract.APP_PORT)],
                )
            ],
        )
        self._policy(
            "webapp-to-postgres",
            selected=pods(names.WEBAPP),
            egress=[
                k8s.NetworkPolicyEgressRule(
                    to=[k8s.NetworkPolicyPeer(pod_selector=pods(names.POSTGRES))],
                    ports=[port(names.POSTGRES_PORT)],
                )
            ],
        )
        self._policy(
            "postgres-from-webapp",
            selected=pods(names.POSTGRES),
            ingress=[
                k8s.NetworkPolicyIngressRule(
                    from_=[k8s.NetworkPolicyPeer(pod_selector=pods(names.WEBAPP))],
                    ports=[port(names.POSTGRES_PORT)],
                )
            ],
        )
        for workload, selector, metrics_port in (
            *((s.name, s.selector, s.metrics_port_number) for s in services),
            (names.POSTGRES, names.selector(names.POSTGRES), names.POSTGRES_EXPORTER_PORT),
        ):
            policy = agent_ingress(
                self,
                workload=workload,
                selector=selector,
                metrics_port=metrics_port,
                scraper_cidrs=scraper_cidrs,
            )
            self.policies[policy.name] = policy

    def _policy(
        self,
        name: str,
        *,
        selected: k8s.LabelSelector,
        ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
        egress: list[k8s.NetworkPolicyEgressRule] | None = None,
    ) -> None:
        self.policies[name] = network_policy(self, name, selected=selected, ingress=ingress, egress=egress)
