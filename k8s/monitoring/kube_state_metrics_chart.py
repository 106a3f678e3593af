"""kube-state-metrics: metrics about Kubernetes objects, read-only access, a minimal label allowlist.

One replica, not sharded (decided with the agents' HA pair, issue #20). A second replica would not be a
standby: each replica reports every object, both are scraped (the job selects the pods), and the series
differ by `instance`, so every `sum`/`count` over object state would double; AMP deduplicates agents, not
exporters. Its restart costs object state for a scrape or two (it lists every object again on start), which
the alerts' `for:` windows absorb. Sharding (`--shard`/`--total-shards`, or automatic with a StatefulSet) is
for clusters where one instance's memory or scrape size no longer fits: kube-state-metrics' README sizes it
at 200 MiB and 0.1 core plus 2 MiB and 0.001 core per node above 100 nodes (at 30 pods per node), about
1.2 GiB at 500 nodes, which one pod holds. The agents' two replicas both scrape this one pod; AMP keeps one
copy.
"""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import Resources
from k8s.images import KUBE_STATE_METRICS_IMAGE
from k8s.pod_security import NOBODY, container_resources, restricted_container, restricted_pod
from k8s.rbac import ClusterReader
from observability import names

# The limit sits above the README's 200 MiB for up to 100 nodes (a limit below it would OOM-kill a
# cluster of that size on its start, when it lists every object); above 100 nodes add 2 MiB per node.
RESOURCES = Resources(cpu_request="50m", memory_request="96Mi", memory_limit="256Mi")
# Object labels become series labels only when listed: the workload name, nothing that explodes cardinality.
LABEL_ALLOWLIST = ",".join(
    f"{kind}=[{names.NAME_LABEL}]" for kind in ("pods", "deployments", "statefulsets", "daemonsets")
)
# The kinds the platform's dashboards and alerts use, by API group: the `--resources` flag and the RBAC
# rules both come from here. Secrets are left out on purpose: listing them would let this pod read them.
RESOURCES_BY_GROUP = {
    "": ["nodes", "pods", "services", "namespaces", "persistentvolumeclaims", "persistentvolumes",
         "resourcequotas"],
    "apps": ["statefulsets", "daemonsets", "deployments", "replicasets"],
    "batch": ["cronjobs", "jobs"],
    "autoscaling": ["horizontalpodautoscalers"],
    "policy": ["poddisruptionbudgets"],
    "storage.k8s.io": ["storageclasses"],
}  # fmt: skip


class KubeStateMetricsChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id_: str, *, image: str = KUBE_STATE_METRICS_IMAGE) -> None:
        super().__init__(scope, id_, namespace=names.MONITORING_NAMESPACE, disable_resource_name_hashes=True)
        labels = names.labels(names.KUBE_STATE_METRICS)
        metadata = k8s.ObjectMeta(name=names.KUBE_STATE_METRICS, labels=labels)
        self.rbac = ClusterReader(
            self,
            "Rbac",
            name=names.KUBE_STATE_METRICS,
            namespace=names.MONITORING_NAMESPACE,
            rules=[
                k8s.PolicyRule(api_groups=[group], resources=resources, verbs=["list", "watch"])
                for group, resources in RESOURCES_BY_GROUP.items()
            ],
        )
        self.deployment = k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=metadata,
            spec=k8s.DeploymentSpec(
                replicas=1,  # every replica would report every object: more would double the series
                selector=k8s.LabelSelector(match_labels=names.selector(names.KUBE_STATE_METRICS)),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels), spec=self._pod_spec(image)
                ),
            ),
        )

    @staticmethod
    def _pod_spec(image: str) -> k8s.PodSpec:
        def probe(path: str, port: str) -> k8s.Probe:
            return k8s.Probe(
                http_get=k8s.HttpGetAction(path=path, port=k8s.IntOrString.from_string(port)),
                period_seconds=10,
                timeout_seconds=5,
            )

        return k8s.PodSpec(
            service_account_name=names.KUBE_STATE_METRICS,
            priority_class_name=names.MONITORING_PRIORITY_CLASS,
            security_context=restricted_pod(user=NOBODY),
            containers=[
                k8s.Container(
                    name=names.KUBE_STATE_METRICS,
                    image=image,
                    args=[
                        f"--port={names.KUBE_STATE_METRICS_PORT}",
                        f"--telemetry-port={names.KUBE_STATE_METRICS_TELEMETRY_PORT}",
                        f"--metric-labels-allowlist={LABEL_ALLOWLIST}",
                        "--resources="
                        + ",".join(sorted(r for group in RESOURCES_BY_GROUP.values() for r in group)),
                    ],
                    ports=[
                        k8s.ContainerPort(
                            name=names.KUBE_STATE_METRICS_PORT_NAME,
                            container_port=names.KUBE_STATE_METRICS_PORT,
                            protocol="TCP",
                        ),
                        k8s.ContainerPort(
                            name=names.KUBE_STATE_METRICS_TELEMETRY_PORT_NAME,
                            container_port=names.KUBE_STATE_METRICS_TELEMETRY_PORT,
                            protocol="TCP",
                        ),
                    ],
                    resources=container_resources(RESOURCES),
                    liveness_probe=probe("/livez", names.KUBE_STATE_METRICS_PORT_NAME),
                    readiness_probe=probe("/readyz", names.KUBE_STATE_METRICS_TELEMETRY_PORT_NAME),
                    security_context=restricted_container(),
                )
            ],
        )
