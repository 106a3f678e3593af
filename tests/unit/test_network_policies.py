"""The app namespace's NetworkPolicies, evaluated: exactly the intended flows are allowed, no others."""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field

import pytest

from k8s import names
from k8s.network_policies_chart import NAMESPACE_NAME_LABEL


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None  # None: outside the cluster (only an IP)
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str = "10.99.0.10"


PORTS = [(53, "UDP"), (53, "TCP"), (names.WEBAPP_PORT, "TCP"), (names.POSTGRES_PORT, "TCP"),
         (names.POSTGRES_EXPORTER_PORT, "TCP"), (443, "TCP")]  # fmt: skip


def _endpoints(load_balancer_ip: str) -> list[Endpoint]:
    return [
        Endpoint("webapp", names.APP_NAMESPACE, names.labels(names.WEBAPP)),
        Endpoint("postgres", names.APP_NAMESPACE, names.labels(names.POSTGRES)),
        Endpoint("other-app-pod", names.APP_NAMESPACE, {"app.kubernetes.io/name": "debug"}),
        Endpoint("coredns", "kube-system", {"k8s-app": "kube-dns"}),
        Endpoint("kube-system-other", "kube-system", {"k8s-app": "aws-node"}),
        Endpoint("prometheus", names.MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"}),
        Endpoint("pod-elsewhere", "default", {"app": "x"}),
        Endpoint("load-balancer", None, ip=load_balancer_ip),
        Endpoint("internet", None, ip="198.51.100.7"),
    ]


EXPECTED = {
    *(
        (pod, "coredns", 53, protocol)
        for pod in ("webapp", "postgres", "other-app-pod")
        for protocol in ("UDP", "TCP")
    ),
    ("load-balancer", "webapp", names.WEBAPP_PORT, "TCP"),
    ("webapp", "postgres", names.POSTGRES_PORT, "TCP"),
    ("prometheus", "webapp", names.WEBAPP_PORT, "TCP"),
    ("prometheus", "postgres", names.POSTGRES_EXPORTER_PORT, "TCP"),
}


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "matchExpressions are not evaluated here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict, policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
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


def _flows(policies: list[dict]) -> set[tuple]:
    """Every (source, target, port, protocol) the policies allow that touches the app namespace."""
    webapp_ingress = next(p for p in policies if p["metadata"]["name"] == "webapp-from-load-balancer")
    lb_cidr = webapp_ingress["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"]
    endpoints = _endpoints(load_balancer_ip=str(next(ipaddress.ip_network(lb_cidr).hosts())))
    return {
        (source.name, target.name, *port)
        for source, target in itertools.permutations(endpoints, 2)
        for port in PORTS
        if (source.namespace == names.APP_NAMESPACE or target.namespace == names.APP_NAMESPACE)
        and _allowed(policies, "Egress", source, target, port)
        and _allowed(policies, "Ingress", target, source, port)
    }


def _policies(synth) -> list[dict]:
    return [o for o in synth.kubernetes_manifests("Workloads") if o["kind"] == "NetworkPolicy"]


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_policies_allow_exactly_the_intended_flows(synthesized, variant):
    assert _flows(_policies(synthesized[variant])) == EXPECTED


def test_the_evaluation_notices_a_missing_deny(dev):
    """Guards the test above: without default deny, far more flows would pass."""
    policies = [p for p in _policies(dev) if p["metadata"]["name"] != "default-deny-all"]
    assert _flows(policies) > EXPECTED


@pytest.mark.parametrize(("variant", "group"), [("dev", "InternalLoadBalancers"), ("auto", "Public")])
def test_load_balancer_cidrs_are_the_load_balancer_subnets_only(synthesized, variant, group):
    """Node subnets (where every pod's IP lives) must not be admitted as 'the load balancer'. Internal
    load balancers have subnets of their own; internet-facing ones (the auto variant) the public ones."""
    synth = synthesized[variant]
    policy = synth.kubernetes_object("NetworkPolicy", "webapp-from-load-balancer")
    cidrs = {peer["ipBlock"]["cidr"] for peer in policy["spec"]["ingress"][0]["from"]}
    subnets = synth.template("Network").find_resources("AWS::EC2::Subnet")
    by_group: dict[str, set[str]] = {}
    for subnet in subnets.values():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        by_group.setdefault(tags["aws-cdk:subnet-name"], set()).add(subnet["Properties"]["CidrBlock"])
    assert cidrs == by_group[group]
    assert not cidrs & by_group["Private"]


def test_default_deny_covers_both_directions(dev):
    policy = dev.kubernetes_object("NetworkPolicy", "default-deny-all")["spec"]
    assert policy["podSelector"] == {}
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert not policy.get("ingress")
    assert not policy.get("egress")
