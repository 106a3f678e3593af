"""Default deny in the monitoring namespace, then exactly what the agent and kube-state-metrics need.

Allowed, and nothing else:
  any pod             → cluster DNS                      UDP/TCP 53 (as in `orders`)
  agent               → any address                      TCP 443   (API server, AMP, STS)
  agent               → VPC CIDR                         TCP 10250 (kubelet, cAdvisor)
  agent               → VPC CIDR                         TCP 9100  (node-exporter, on the host network)
  agent               → Pod Identity agent (link-local)  TCP 80
  agent               → each service's pods              its metrics port (services/<name>/service.yaml)
  agent               → Postgres exporter (orders)       TCP 9187
  agent               → kube-state-metrics               TCP 8080
  agent               → agent                            TCP 9090 (it scrapes itself)
  kube-state-metrics  → any address                      TCP 443   (API server)

With `monitoring.collector: managed` (`scraper_cidrs` given) no agent runs: its policies go, and
kube-state-metrics admits the managed collector's network interfaces (the node subnets) instead.

No policy in node-exporter's namespace: its pods use the host's network, which NetworkPolicies do not
govern (Kubernetes leaves hostNetwork pods to the plugin; the VPC CNI does not enforce on them).
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.platform import CapacityMode
from k8s.network_policy_rules import (
    ANY_IPV4,
    HTTPS,
    dns_egress,
    ip_block,
    labelled_pods_in,
    network_policy,
    pods,
    pods_in,
    port,
)
from observability import names
from observability.model.service import Service


def _https_anywhere() -> k8s.NetworkPolicyEgressRule:
    # The API server (the `kubernetes` Service IP from a service CIDR EKS picks, then the control
    # plane's ENIs), AMP's and STS's endpoints (public, or interface endpoints in the VPC): none is a
    # range known at synth time, so TCP 443 to any address. Only 443: every other port stays denied.
    return k8s.NetworkPolicyEgressRule(to=[ip_block(ANY_IPV4)], ports=[port(HTTPS)])


class MonitoringNetworkPoliciesChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc_cidr: str,
        capacity_mode: CapacityMode,
        services: Sequence[Service] = (),
        scraper_cidrs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_, namespace=names.MONITORING_NAMESPACE, disable_resource_name_hashes=True)
        agent, ksm = pods(names.PROMETHEUS_AGENT), pods(names.KUBE_STATE_METRICS)
        if scraper_cidrs:
            self.policies = {
                name: network_policy(self, name, selected=selected, ingress=ingress, egress=egress)
                for name, selected, ingress, egress in (
                    ("default-deny-all", k8s.LabelSelector(), [], []),
                    ("allow-dns", k8s.LabelSelector(), None, [dns_egress(capacity_mode)]),
                    (
                        "kube-state-metrics-from-scraper",
                        ksm,
                        [
                            k8s.NetworkPolicyIngressRule(
                                from_=[ip_block(cidr) for cidr in scraper_cidrs],
                                ports=[port(names.KUBE_STATE_METRICS_PORT)],
                            )
                        ],
                        None,
                    ),
                    ("kube-state-metrics-egress", ksm, None, [_https_anywhere()]),
                )
            }
            return
        self.policies = {
            name: network_policy(self, name, selected=selected, ingress=ingress, egress=egress)
            for name, selected, ingress, egress in (
                ("default-deny-all", k8s.LabelSelector(), [], []),
                ("allow-dns", k8s.LabelSelector(), None, [dns_egress(capacity_mode)]),
                ("prometheus-agent-egress", agent, None, self._agent_egress(vpc_cidr, services)),
                (
                    "prometheus-agent-from-itself",
                    agent,
                    [
                        k8s.NetworkPolicyIngressRule(
                            from_=[k8s.NetworkPolicyPeer(pod_selector=agent)],
                            ports=[port(names.PROMETHEUS_PORT)],
                        )
                    ],
                    None,
                ),
                (
                    "kube-state-metrics-from-agent",
                    ksm,
                    [
                        k8s.NetworkPolicyIngressRule(
                            from_=[k8s.NetworkPolicyPeer(pod_selector=agent)],
                            ports=[port(names.KUBE_STATE_METRICS_PORT)],
                        )
                    ],
                    None,
                ),
                ("kube-state-metrics-egress", ksm, None, [_https_anywhere()]),
            )
        }

    @staticmethod
    def _agent_egress(vpc_cidr: str, services: Sequence[Service]) -> list[k8s.NetworkPolicyEgressRule]:
        def to(peers: list[k8s.NetworkPolicyPeer], *ports: int) -> k8s.NetworkPolicyEgressRule:
            return k8s.NetworkPolicyEgressRule(to=peers, ports=[port(p) for p in ports])

        return [
            _https_anywhere(),
            # The `kubelet`/`cadvisor` jobs dial each node's InternalIP directly, and node-exporter
            # listens on the node's IP (host network): node IPs are in the VPC CIDR.
            to([ip_block(vpc_cidr)], names.KUBELET_PORT, names.NODE_EXPORTER_PORT),
            # AWS credentials for remote write (SigV4) come from the node's Pod Identity agent.
            to([ip_block(names.POD_IDENTITY_AGENT_CIDR)], names.POD_IDENTITY_AGENT_PORT),
            # Each service's pods, on exactly its metrics port (by number: see the service model).
            *(
                to([labelled_pods_in(service.namespace, service.selector)], service.metrics_port_number)
                for service in services
            ),
            to([pods_in(names.APP_NAMESPACE, names.POSTGRES)], names.POSTGRES_EXPORTER_PORT),
            to(
                [k8s.NetworkPolicyPeer(pod_selector=pods(names.KUBE_STATE_METRICS))],
                names.KUBE_STATE_METRICS_PORT,
            ),
            to([k8s.NetworkPolicyPeer(pod_selector=pods(names.PROMETHEUS_AGENT))], names.PROMETHEUS_PORT),
        ]
