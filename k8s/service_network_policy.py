"""The NetworkPolicy that admits the agent to a service's pods: ingress to the pods of its selector on its
metrics port, from the agent's pods in the monitoring namespace only (with `monitoring.collector:
managed`, from the managed collector's network interfaces instead: the node subnets' CIDRs).

One definition for both places it is applied: where the platform owns the namespace (the app namespace)
`k8s/network_policies_chart.py` adds it to its chart; for other namespaces `make render` writes it to
dist/services/<name>/network-policy.yaml for the service's team to apply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from k8s.network_policy_rules import ip_block, network_policy, pods_in, port
from observability import names
from observability.model.service import Service

# Namespaces whose policies the platform itself applies.
PLATFORM_NAMESPACES = (names.APP_NAMESPACE,)


def agent_ingress(
    scope: Construct,
    *,
    workload: str,
    selector: Mapping[str, str],
    metrics_port: int,
    scraper_cidrs: Sequence[str] = (),
) -> k8s.KubeNetworkPolicy:
    """`<workload>-metrics-from-monitoring` in `scope`'s namespace; from `scraper_cidrs` (the managed
    collector's subnets) when given, else from the agent's pods."""
    return network_policy(
        scope,
        f"{workload}-metrics-from-monitoring",
        selected=k8s.LabelSelector(match_labels=dict(selector)),
        ingress=[
            k8s.NetworkPolicyIngressRule(
                # The agent's pods only: not every pod that lands in `monitoring`.
                from_=(
                    [ip_block(cidr) for cidr in scraper_cidrs]
                    or [pods_in(names.MONITORING_NAMESPACE, names.PROMETHEUS_AGENT)]
                ),
                ports=[port(metrics_port)],
            )
        ],
    )


def agent_ingress_policy(service: Service) -> dict[str, Any]:
    """The policy for `service`'s own namespace, as the manifest its team applies."""
    chart = cdk8s.Chart(cdk8s.App(), "Policy", namespace=service.namespace, disable_resource_name_hashes=True)
    agent_ingress(
        chart, workload=service.name, selector=service.selector, metrics_port=service.metrics_port_number
    )
    (document,) = chart.to_json()
    return dict(document)
