"""The NetworkPolicies of `orders` and `monitoring`, evaluated together: exactly the intended flows are
allowed, no others (node-exporter's namespace has none: host-network pods are outside their reach)."""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field

import pytest

from k8s.network_policy_rules import NAMESPACE_NAME_LABEL
from observability import names
from webapp.orders_api import slo_contract

POLICY_NAMESPACES = (names.APP_NAMESPACE, names.MONITORING_NAMESPACE)


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None  # None: not a pod NetworkPolicies select (outside the cluster, or the host)
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str = ""


PORTS = [
    (53, "UDP"),
    (53, "TCP"),
    (names.POD_IDENTITY_AGENT_PORT, "TCP"),
    (443, "TCP"),
    (names.POSTGRES_PORT, "TCP"),
    (slo_contract.APP_PORT, "TCP"),
    (names.KUBE_STATE_METRICS_PORT, "TCP"),
    (names.KUBE_STATE_METRICS_TELEMETRY_PORT, "TCP"),
    (names.PROMETHEUS_PORT, "TCP"),
    (names.NODE_EXPORTER_PORT, "TCP"),
    (names.POSTGRES_EXPORTER_PORT, "TCP"),
    (names.KUBELET_PORT, "TCP"),
]


def _endpoints(vpc_cidr: str, load_balancer_cidrs: list[str]) -> list[Endpoint]:
    """Pods get VPC addresses (the VPC CNI gives pods IPs from the node subnets), outside the load
    balancer subnets; the node's address serves the kubelet and node-exporter (host network)."""
    load_balancers = [ipaddress.ip_network(c) for c in load_balancer_cidrs]
    vpc_ips = (
        str(ip)
        for ip in itertools.islice(ipaddress.ip_network(vpc_cidr).hosts(), 10, None)
        if not any(ip in lb for lb in load_balancers)
    )
    pods = [
        ("webapp", names.APP_NAMESPACE, names.labels(names.WEBAPP)),
        ("postgres", names.APP_NAMESPACE, names.labels(names.POSTGRES)),
        ("other-app-pod", names.APP_NAMESPACE, {names.NAME_LABEL: "debug"}),
        ("agent", names.MONITORING_NAMESPACE, names.labels(names.PROMETHEUS_AGENT)),
        ("kube-state-metrics", names.MONITORING_NAMESPACE, names.labels(names.KUBE_STATE_METRICS)),
        ("other-monitoring-pod", names.MONITORING_NAMESPACE, {names.NAME_LABEL: "prometheus"}),
        ("coredns", "kube-system", {"k8s-app": "kube-dns"}),
        ("pod-elsewhere", "default", {"app": "x"}),
    ]
    return [
        *(Endpoint(name, namespace, labels, next(vpc_ips)) for name, namespace, labels in pods),
        Endpoint("node", None, ip=next(vpc_ips)),
        Endpoint("api-server", None, ip="172.20.0.1"),  # the `kubernetes` Service (EKS service CIDR)
        Endpoint("aws-endpoint", None, ip="198.51.100.7"),  # AMP, STS
        Endpoint("pod-identity-agent", None, ip=names.POD_IDENTITY_AGENT_CIDR.removesuffix("/32")),
        Endpoint("load-balancer", None, ip=str(next(load_balancers[0].hosts()))),
    ]


ORDERS_PODS = ("webapp", "postgres", "other-app-pod")
MONITORING_PODS = ("agent", "kube-state-metrics", "other-monitoring-pod")
# Endpoints no policy of ours isolates: they accept whatever our pods' egress rules let out.
UNISOLATED = ("coredns", "pod-elsewhere", "node", "api-server", "aws-endpoint", "pod-identity-agent",
              "load-balancer")  # fmt: skip
# The unisolated endpoints inside the VPC CIDR: node IPs cannot be told from other VPC addresses.
IN_VPC = ("coredns", "pod-elsewhere", "node", "load-balancer")

COMMON = {
    ("load-balancer", "webapp", slo_contract.APP_PORT, "TCP"),
    ("webapp", "postgres", names.POSTGRES_PORT, "TCP"),
    # Only the agent scrapes, and only the exporters' ports.
    ("agent", "webapp", slo_contract.APP_PORT, "TCP"),
    ("agent", "postgres", names.POSTGRES_EXPORTER_PORT, "TCP"),
    ("agent", "kube-state-metrics", names.KUBE_STATE_METRICS_PORT, "TCP"),
    ("agent", "agent", names.PROMETHEUS_PORT, "TCP"),
    ("agent", "pod-identity-agent", names.POD_IDENTITY_AGENT_PORT, "TCP"),
    # Kubelet/cAdvisor and node-exporter on the node's IP: an ipBlock of the VPC CIDR.
    *(
        ("agent", target, port, "TCP")
        for target in IN_VPC
        for port in (names.KUBELET_PORT, names.NODE_EXPORTER_PORT)
    ),
    # API server, AMP and STS: 443 to any address.
    *((source, target, 443, "TCP") for source in ("agent", "kube-state-metrics") for target in UNISOLATED),
}
DNS_CLIENTS = ORDERS_PODS + MONITORING_PODS
EXPECTED = {
    # Node groups: DNS only to the CoreDNS pods.
    "dev": COMMON | {(pod, "coredns", 53, proto) for pod in DNS_CLIENTS for proto in ("UDP", "TCP")},
    # Auto Mode: CoreDNS is a service on each node, so port 53 goes to any address.
    "auto": COMMON
    | {(pod, target, 53, proto) for pod in DNS_CLIENTS for target in UNISOLATED for proto in ("UDP", "TCP")},
}


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "matchExpressions are not evaluated here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict, policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        assert "except" not in peer["ipBlock"], "ipBlock exceptions are not evaluated here"
        return ipaddress.ip_address(other.ip) in ipaddress.ip_network(peer["ipBlock"]["cidr"])
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_ok = _selects(peer["namespaceSelector"], {NAMESPACE_NAME_LABEL: other.namespace})
    else:
        namespace_ok = other.namespace == policy_namespace
    return namespace_ok and _selects(peer.get("podSelector", {}), other.labels)


def _rule_allows(rule: dict, peers_key: str, namespace: str, other: Endpoint, port: tuple[int, str]) -> bool:
    peers = rule.get(peers_key)
    peer_ok = peers is None or any(_peer_matches(p, namespace, other) for p in peers)
    ports = rule.get("ports")
    port_ok = ports is None or any((p["port"], p.get("protocol", "TCP")) == port for p in ports)
    return peer_ok and port_ok


def _allowed(policies: list[dict], direction: str, subject: Endpoint, other: Endpoint, port) -> bool:
    """Kubernetes semantics: a pod selected by any policy of this direction is isolated, and then
    allowed only what some selecting policy's rule admits."""
    if subject.namespace is None:
        return True
    selecting = [
        p for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and _selects(p["spec"]["podSelector"], subject.labels)
        and direction in p["spec"]["policyTypes"]
    ]  # fmt: skip
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        _rule_allows(rule, peers_key, p["metadata"]["namespace"], other, port)
        for p in selecting
        for rule in p["spec"].get(key, [])
    )


def _flows(synth, policies: list[dict]) -> set[tuple]:
    """Every (source, target, port, protocol) the policies allow that touches `orders` or `monitoring`
    (a pod to itself included: the agent scrapes itself)."""
    webapp_ingress = next(p for p in policies if p["metadata"]["name"] == "webapp-from-load-balancer")
    lb_cidrs = [peer["ipBlock"]["cidr"] for peer in webapp_ingress["spec"]["ingress"][0]["from"]]
    endpoints = _endpoints(synth.config.vpc_cidr, lb_cidrs)
    return {
        (source.name, target.name, *port)
        for source, target in itertools.product(endpoints, repeat=2)
        for port in PORTS
        if {source.namespace, target.namespace} & set(POLICY_NAMESPACES)
        and _allowed(policies, "Egress", source, target, port)
        and _allowed(policies, "Ingress", target, source, port)
    }


def _policies(synth) -> list[dict]:
    return [
        o
        for role in ("Workloads", "Monitoring")
        for o in synth.kubernetes_manifests(role)
        if o["kind"] == "NetworkPolicy"
    ]


def _policy(synth, namespace: str, name: str) -> dict:
    (policy,) = [
        p
        for p in _policies(synth)
        if (p["metadata"]["namespace"], p["metadata"]["name"]) == (namespace, name)
    ]
    return policy


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_policies_allow_exactly_the_intended_flows(synthesized, variant):
    synth = synthesized[variant]
    assert _flows(synth, _policies(synth)) == EXPECTED[variant]


def test_policies_live_in_our_namespaces_only(dev):
    assert {p["metadata"]["namespace"] for p in _policies(dev)} == set(POLICY_NAMESPACES)


@pytest.mark.parametrize("namespace", POLICY_NAMESPACES)
def test_the_evaluation_notices_a_missing_deny(dev, namespace):
    """Guards the test above: without a namespace's default deny, far more flows would pass."""
    policies = [
        p
        for p in _policies(dev)
        if (p["metadata"]["namespace"], p["metadata"]["name"]) != (namespace, "default-deny-all")
    ]
    assert _flows(dev, policies) > EXPECTED["dev"]


@pytest.mark.parametrize(("variant", "group"), [("dev", "InternalLoadBalancers"), ("auto", "Public")])
def test_load_balancer_cidrs_are_the_load_balancer_subnets_only(synthesized, variant, group):
    """Node subnets (where every pod's IP lives) must not be admitted as 'the load balancer'. Internal
    load balancers have subnets of their own; internet-facing ones (the auto variant) the public ones."""
    synth = synthesized[variant]
    policy = _policy(synth, names.APP_NAMESPACE, "webapp-from-load-balancer")
    cidrs = {peer["ipBlock"]["cidr"] for peer in policy["spec"]["ingress"][0]["from"]}
    subnets = synth.template("Network").find_resources("AWS::EC2::Subnet")
    by_group: dict[str, set[str]] = {}
    for subnet in subnets.values():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        by_group.setdefault(tags["aws-cdk:subnet-name"], set()).add(subnet["Properties"]["CidrBlock"])
    assert cidrs == by_group[group]
    assert not cidrs & by_group["Private"]


@pytest.mark.parametrize("namespace", POLICY_NAMESPACES)
def test_default_deny_covers_both_directions(dev, namespace):
    policy = _policy(dev, namespace, "default-deny-all")["spec"]
    assert policy["podSelector"] == {}
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert not policy.get("ingress")
    assert not policy.get("egress")


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_node_ips_are_reached_through_the_vpc_cidr(synthesized, variant):
    """Kubelet and node-exporter are addressed by node IP: the rule names the configured VPC CIDR."""
    synth = synthesized[variant]
    rules = _policy(synth, names.MONITORING_NAMESPACE, "prometheus-agent-egress")["spec"]["egress"]
    (node_rule,) = [r for r in rules if {"port": names.KUBELET_PORT, "protocol": "TCP"} in r["ports"]]
    assert node_rule["to"] == [{"ipBlock": {"cidr": synth.config.vpc_cidr}}]
