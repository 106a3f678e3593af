"""The stacks' manifests on a real kube-apiserver of the cluster's release (harness/cluster.py): server-side
apply accepts them in the stacks' order, Pod Security admission enforces each namespace's standard, RBAC
gives each service account what it needs and nothing more, and kwok runs the pods on loopback addresses."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from harness.cluster import DEFAULT_NODES, FIELD_MANAGER, ApiError, SimulatedCluster, service_account_user
from tests.cluster.conftest import Applied

Manifest = dict[str, Any]


def test_the_api_server_is_the_clusters_release(cluster: SimulatedCluster) -> None:
    version = cluster.request("GET", "/version")
    assert (version["major"], version["minor"]) == ("1", "35")


def test_every_manifest_is_accepted_by_server_side_apply(applied: Applied) -> None:
    refused = [
        f"{source}: {obj['kind']}/{obj['metadata']['name']}: {answer}"
        for (source, obj), answer in zip(applied.objects, applied.answers, strict=True)
        if isinstance(answer, ApiError)
    ]
    assert refused == []
    # Each object is now owned by the apply: the API server recorded the manager's fields.
    for answer in applied.answers:
        assert isinstance(answer, dict)
        managers = {(f["manager"], f["operation"]) for f in answer["metadata"]["managedFields"]}
        assert (FIELD_MANAGER, "Apply") in managers
    kinds = {obj["kind"] for _, obj in applied.objects}
    assert {"Namespace", "Deployment", "StatefulSet", "DaemonSet", "ClusterRole", "NetworkPolicy"} <= kinds
    # Only the kinds an EKS add-on defines were left out.
    assert [(o["kind"], o["metadata"]["name"]) for o in applied.skipped] == [
        ("SecretProviderClass", "orders-db")
    ]


def test_namespaces_enforce_their_pod_security_standard(cluster: SimulatedCluster, applied: Applied) -> None:
    enforced = {
        name: cluster.request("GET", f"/api/v1/namespaces/{name}")["metadata"]["labels"].get(
            "pod-security.kubernetes.io/enforce"
        )
        for name in ("orders", "monitoring", "node-exporter")
    }
    assert enforced == {"orders": "restricted", "monitoring": "restricted", "node-exporter": "privileged"}


def _broken_pod(namespace: str) -> Manifest:
    """A pod that breaks `restricted` only by running privileged (which implies privilege escalation)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "broken", "namespace": namespace},
        "spec": {
            "nodeName": DEFAULT_NODES[0].name,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "broken",
                    "image": "public.ecr.aws/docker/library/busybox:1.36",
                    "securityContext": {"privileged": True, "capabilities": {"drop": ["ALL"]}},
                }
            ],
        },
    }


@pytest.mark.parametrize("namespace", ["monitoring", "orders"])
def test_a_privileged_pod_is_refused_where_restricted_is_enforced(
    cluster: SimulatedCluster, applied: Applied, namespace: str
) -> None:
    with pytest.raises(ApiError) as refused:
        cluster.create_pod(_broken_pod(namespace))
    assert (refused.value.status_code, refused.value.reason) == (403, "Forbidden")
    # Pod Security admission's own words (k8s.io/pod-security-admission), naming the standard and the check.
    assert refused.value.message == (
        'pods "broken" is forbidden: violates PodSecurity "restricted:latest": '
        'privileged (container "broken" must not set securityContext.privileged=true), '
        "allowPrivilegeEscalation != false "
        '(container "broken" must set securityContext.allowPrivilegeEscalation=false)'
    )


def test_the_same_pod_is_admitted_where_privileged_is_enforced(
    cluster: SimulatedCluster, applied: Applied
) -> None:
    # node-exporter's namespace enforces `privileged` (it needs the host): the refusal above is the label's.
    created = cluster.create_pod(_broken_pod("node-exporter"))
    try:
        assert created["metadata"]["name"] == "broken"
    finally:
        cluster.request(
            "DELETE", "/api/v1/namespaces/node-exporter/pods/broken", params={"gracePeriodSeconds": "0"}
        )


def test_kwok_runs_every_workloads_pods_on_loopback_addresses(running_pods: list[Manifest]) -> None:
    """The pods the real controllers create from the applied templates pass admission (Pod Security
    `restricted` in orders and monitoring), are placed by the scheduler and turn Running on a simulated
    node, with an IP of that node's loopback pod CIDR (host-network pods: the node's own loopback IP)."""
    nodes = {node.name: node for node in DEFAULT_NODES}
    for pod in running_pods:
        node = nodes[pod["spec"]["nodeName"]]
        ip = ipaddress.ip_address(pod["status"]["podIP"])
        assert ip in ipaddress.ip_network("127.0.0.0/8")
        if pod["spec"].get("hostNetwork"):
            assert str(ip) == node.ip
        else:
            assert ip in ipaddress.ip_network(node.pod_cidr)
    by_namespace: dict[str, list[str]] = {}
    for pod in running_pods:
        by_namespace.setdefault(pod["metadata"]["namespace"], []).append(pod["metadata"]["name"])
    # One pod per replica (1 each in dev, the agents' HA pair 2) and one node-exporter per node.
    assert {namespace: len(pods) for namespace, pods in by_namespace.items()} == {
        "orders": 2,
        "monitoring": 3,  # kube-state-metrics and the two agents
        "node-exporter": 2,
    }
    agents = sorted(
        (
            p["metadata"]["name"],
            p["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
            p["spec"]["nodeName"],
        )
        for p in running_pods
        if p["metadata"]["name"].startswith("prometheus-agent-")
    )
    assert [(name, index) for name, index, _ in agents] == [
        ("prometheus-agent-0", "0"),
        ("prometheus-agent-1", "1"),
    ]
    # The scheduler spreads them (the chart's topology spread constraint over zones: one node each).
    assert len({node for _, _, node in agents}) == 2
    node_exporters = [p for p in running_pods if p["metadata"]["namespace"] == "node-exporter"]
    assert sorted(p["status"]["podIP"] for p in node_exporters) == ["127.1.0.1", "127.1.0.2"]


# --- RBAC ----------------------------------------------------------------------------------------------
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
# (API group, resource[/subresource]) probed for every verb: what the service accounts need, and what a
# scraper or exporter must never have (secrets, exec, the kubelet proxy, tokens, workloads' writes).
PROBED = (
    ("", "pods"),
    ("", "nodes"),
    ("", "services"),
    ("", "endpoints"),
    ("", "namespaces"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "resourcequotas"),
    ("", "serviceaccounts"),
    ("", "nodes/metrics"),
    ("", "nodes/proxy"),
    ("", "pods/exec"),
    ("", "pods/log"),
    ("", "serviceaccounts/token"),
    ("discovery.k8s.io", "endpointslices"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("storage.k8s.io", "storageclasses"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
)
READ = ("get", "list", "watch")
# Prometheus's Kubernetes discovery (documentation/examples/rbac-setup.yml grants get/list/watch on what
# its roles read) for the agent's roles (pod, node, endpointslice: EndpointSlices with their Services and
# Pods), and the kubelet's metrics (nodes/metrics) for the cAdvisor and kubelet jobs.
AGENT_NEEDS = {
    *((verb, group, resource) for verb in READ for group, resource in (
        ("", "pods"), ("", "nodes"), ("", "services"), ("discovery.k8s.io", "endpointslices"),
    )),
    ("get", "", "nodes/metrics"),
}  # fmt: skip
# kube-state-metrics lists and watches each resource it exposes (its --resources flag), nothing else.
KUBE_STATE_METRICS_NEEDS = {
    (verb, group, resource)
    for verb in ("list", "watch")
    for group, resource in (
        ("", "pods"),
        ("", "nodes"),
        ("", "services"),
        ("", "namespaces"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("", "resourcequotas"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("policy", "poddisruptionbudgets"),
        ("storage.k8s.io", "storageclasses"),
    )
}


def _allowed(
    cluster: SimulatedCluster, *, user: str, groups: list[str], namespace: str
) -> set[tuple[str, str, str]]:
    """Every probed (verb, group, resource) the API server allows `user` in `namespace`."""
    allowed = set()
    for group, resource in PROBED:
        name, _, subresource = resource.partition("/")
        for verb in VERBS:
            if cluster.allowed(
                user=user,
                groups=groups,
                verb=verb,
                group=group,
                resource=name,
                subresource=subresource,
                namespace=namespace,
            ):
                allowed.add((verb, group, resource))
    return allowed


@pytest.mark.parametrize("namespace", ["orders", "monitoring", "kube-system"])
def test_the_agent_may_read_what_discovery_needs_and_nothing_more(
    cluster: SimulatedCluster, applied: Applied, namespace: str
) -> None:
    user, groups = service_account_user(namespace="monitoring", name="prometheus-agent")
    assert _allowed(cluster, user=user, groups=groups, namespace=namespace) == AGENT_NEEDS


def test_the_agent_may_scrape_the_api_servers_metrics(cluster: SimulatedCluster, applied: Applied) -> None:
    user, groups = service_account_user(namespace="monitoring", name="prometheus-agent")

    def may_get(path: str) -> bool:
        review = cluster.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": user,
                    "groups": groups,
                    "nonResourceAttributes": {"path": path, "verb": "get"},
                },
            },
        )
        return bool(review["status"].get("allowed"))

    assert may_get("/metrics")
    assert not may_get("/debug/pprof/profile")


@pytest.mark.parametrize("namespace", ["orders", "monitoring", "kube-system"])
def test_kube_state_metrics_may_list_and_watch_what_it_exposes_and_nothing_more(
    cluster: SimulatedCluster, applied: Applied, namespace: str
) -> None:
    user, groups = service_account_user(namespace="monitoring", name="kube-state-metrics")
    assert _allowed(cluster, user=user, groups=groups, namespace=namespace) == KUBE_STATE_METRICS_NEEDS


def test_a_service_account_token_authenticates_with_exactly_those_rights(
    cluster: SimulatedCluster, applied: Applied
) -> None:
    """The rights above, through the agent's own token (TokenRequest) rather than a review on its behalf."""
    token = cluster.service_account_token(namespace="monitoring", name="prometheus-agent")
    with cluster.client(token) as agent:
        assert agent.get("/api/v1/pods").status_code == 200
        assert agent.get("/apis/discovery.k8s.io/v1/endpointslices").status_code == 200
        assert agent.get("/api/v1/namespaces/orders/secrets").status_code == 403
        assert agent.get("/api/v1/namespaces/monitoring/configmaps").status_code == 403


def test_the_verifier_may_read_the_orders_api_deployment_and_list_pods_and_nothing_more(
    cluster: SimulatedCluster, applied: Applied
) -> None:
    """The deployment verifier (an EKS access entry's group, not a service account) reads the orders API's
    Deployment by name and lists the pods of `orders`, as the probe does, and nothing else anywhere."""
    user, groups = "deployment-verifier", ["platform:deployment-verifier", "system:authenticated"]
    assert _allowed(cluster, user=user, groups=groups, namespace="orders") == {("list", "", "pods")}
    assert _allowed(cluster, user=user, groups=groups, namespace="monitoring") == set()

    def may_get_deployment(namespace: str, name: str) -> bool:
        return cluster.allowed(
            user=user,
            groups=groups,
            verb="get",
            group="apps",
            resource="deployments",
            namespace=namespace,
            name=name,
        )

    assert may_get_deployment("orders", "orders-api")
    assert not may_get_deployment("orders", "another-deployment")
    assert not may_get_deployment("monitoring", "kube-state-metrics")
