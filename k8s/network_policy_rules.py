"""Building blocks both namespaces' NetworkPolicies share: selectors, ports, DNS, and the policy itself."""

from __future__ import annotations

from collections.abc import Mapping

from cdk8s_plus_35 import k8s
from constructs import Construct

from config.platform import CapacityMode
from observability import names

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set on every namespace by the API server
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}  # the CoreDNS pods of the EKS `coredns` add-on
ANY_IPV4 = "0.0.0.0/0"
HTTPS = 443


def port(number: int, protocol: str = "TCP") -> k8s.NetworkPolicyPort:
    return k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(number), protocol=protocol)


def pods(name: str) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=names.selector(name))


def namespace(name: str) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels={NAMESPACE_NAME_LABEL: name})


def pods_in(namespace_name: str, name: str) -> k8s.NetworkPolicyPeer:
    """The pods named `name` in `namespace_name` (both selectors in one peer: AND, not OR)."""
    return k8s.NetworkPolicyPeer(namespace_selector=namespace(namespace_name), pod_selector=pods(name))


def labelled_pods_in(namespace_name: str, labels: Mapping[str, str]) -> k8s.NetworkPolicyPeer:
    """The pods with `labels` in `namespace_name` (a service's selector, from its service file)."""
    pod_selector = k8s.LabelSelector(match_labels=dict(labels))
    return k8s.NetworkPolicyPeer(namespace_selector=namespace(namespace_name), pod_selector=pod_selector)


def ip_block(cidr: str) -> k8s.NetworkPolicyPeer:
    return k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=cidr))


def dns_egress(capacity_mode: CapacityMode) -> k8s.NetworkPolicyEgressRule:
    """Port 53 (UDP and TCP) to the cluster's DNS.

    Node groups run CoreDNS as pods (`k8s-app=kube-dns` in kube-system). EKS Auto Mode runs no such
    pods: CoreDNS is a system service on each node, answering the address in the pods' resolv.conf
    on the node itself, so no pod selector matches it and its address is not a pod's. There, port 53
    is allowed to any destination: only the DNS ports open, everything else stays denied."""
    dns_ports = [port(53, "UDP"), port(53, "TCP")]
    if capacity_mode is CapacityMode.AUTO:
        return k8s.NetworkPolicyEgressRule(ports=dns_ports)
    return k8s.NetworkPolicyEgressRule(
        to=[
            k8s.NetworkPolicyPeer(
                namespace_selector=namespace("kube-system"),
                pod_selector=k8s.LabelSelector(match_labels=KUBE_DNS_LABELS),
            )
        ],
        ports=dns_ports,
    )


def network_policy(
    scope: Construct,
    name: str,
    *,
    selected: k8s.LabelSelector,
    ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
    egress: list[k8s.NetworkPolicyEgressRule] | None = None,
) -> k8s.KubeNetworkPolicy:
    """A policy isolating `selected` pods in each direction given (an empty list: deny that direction)."""
    policy_types = [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    return k8s.KubeNetworkPolicy(
        scope,
        name,
        metadata=k8s.ObjectMeta(name=name, labels={names.PART_OF_LABEL: names.PART_OF}),
        spec=k8s.NetworkPolicySpec(
            pod_selector=selected, policy_types=policy_types, ingress=ingress, egress=egress
        ),
    )
