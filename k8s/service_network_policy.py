"""The NetworkPolicy a team applies in its own namespace so the agent can scrape its service: ingress to
the service's pods (its selector) on its metrics port, from the agent's pods in the monitoring namespace
only. Where the platform owns the namespace (the app namespace) it applies the same flow itself
(k8s/network_policies_chart.py); `make render` writes this one to dist/services/<name>/ for the others."""

from __future__ import annotations

from typing import Any

from k8s.network_policy_rules import NAMESPACE_NAME_LABEL
from observability import names
from observability.model.service import Service

# Namespaces whose policies the platform itself applies.
PLATFORM_NAMESPACES = (names.APP_NAMESPACE,)


def agent_ingress_policy(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{service.name}-metrics-from-monitoring", "namespace": service.namespace},
        "spec": {
            "podSelector": {"matchLabels": dict(service.selector)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {NAMESPACE_NAME_LABEL: names.MONITORING_NAMESPACE}
                            },
                            "podSelector": {"matchLabels": dict(names.selector(names.PROMETHEUS_AGENT))},
                        }
                    ],
                    "ports": [{"port": service.metrics_port_number, "protocol": "TCP"}],
                }
            ],
        },
    }
