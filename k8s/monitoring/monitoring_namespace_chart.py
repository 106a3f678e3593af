"""The monitoring namespace (the Prometheus agent, kube-state-metrics), node-exporter's own namespace,
and the priority class the monitoring Deployments and StatefulSets run at (node-exporter runs at
`system-node-critical`)."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from k8s.pod_security import PSS_RESTRICTED
from observability import names

# node-exporter needs the host's network, process namespace and filesystems, which only the `privileged`
# standard admits: it gets a namespace of its own, so `monitoring` can enforce `restricted`. Audit and
# warn still report anything in its namespace that falls short of `restricted`.
NODE_EXPORTER_POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
MONITORING_PRIORITY = 1_000_000  # system classes start at 2,000,000,000


class MonitoringNamespaceChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_, disable_resource_name_hashes=True)
        self.monitoring_namespace = self._namespace("Namespace", names.MONITORING_NAMESPACE, PSS_RESTRICTED)
        self.node_exporter_namespace = self._namespace(
            "NodeExporterNamespace", names.NODE_EXPORTER_NAMESPACE, NODE_EXPORTER_POD_SECURITY
        )
        self.priority_class = k8s.KubePriorityClass(
            self,
            "PriorityClass",
            metadata=k8s.ObjectMeta(
                name=names.MONITORING_PRIORITY_CLASS, labels={names.PART_OF_LABEL: names.PART_OF}
            ),
            value=MONITORING_PRIORITY,
            global_default=False,
            description="The metrics pipeline: evicted after application pods, may preempt them.",
        )

    def _namespace(self, id_: str, name: str, pod_security: dict[str, str]) -> k8s.KubeNamespace:
        return k8s.KubeNamespace(
            self,
            id_,
            metadata=k8s.ObjectMeta(name=name, labels={**pod_security, names.PART_OF_LABEL: names.PART_OF}),
        )
