"""The Prometheus agent: discovers targets, scrapes them, and remote-writes to Amazon Managed Prometheus.

A StatefulSet so the write-ahead log lives on a volume: while AMP is unreachable the backlog waits on
disk, not in memory. On SIGTERM the agent flushes what it scraped before exiting; what is still unsent
after that is not resent after a restart (Prometheus remote write starts from "now", prometheus#8809).
The volume is disposable (nothing on it outlives the agent): the claim goes with the StatefulSet, and
its StorageClass deletes the EBS volume with the claim.
"""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import Resources
from k8s.images import PROMETHEUS_IMAGE
from k8s.pod_security import NOBODY, container_resources, quantity, restricted_container, restricted_pod
from k8s.rbac import ClusterReader
from k8s.storage_chart import DISPOSABLE_STORAGE_CLASS
from observability import names

CONFIG_FILE = "prometheus.yml"
# How long the agent tries to send what it has scraped on SIGTERM (Prometheus's default, made explicit);
# the pod's grace period must outlast it, or the kubelet kills the agent mid-flush.
SHUTDOWN_FLUSH_SECONDS = 60
TERMINATION_GRACE_SECONDS = 2 * SHUTDOWN_FLUSH_SECONDS
CONFIG_MOUNT = "/etc/prometheus"
WAL_MOUNT = "/prometheus"
CONFIG_CHECKSUM_ANNOTATION = "checksum/config"


class PrometheusAgentChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config_yaml: str,
        config_checksum: str,
        resources: Resources,
        wal_volume_gib: int,
        image: str = PROMETHEUS_IMAGE,
    ) -> None:
        super().__init__(scope, id_, namespace=names.MONITORING_NAMESPACE, disable_resource_name_hashes=True)
        name = names.PROMETHEUS_AGENT
        labels = names.labels(name)
        metadata = k8s.ObjectMeta(name=name, labels=labels)
        self.rbac = ClusterReader(
            self,
            "Rbac",
            name=name,
            namespace=names.MONITORING_NAMESPACE,
            rules=[
                # Kubernetes service discovery.
                k8s.PolicyRule(
                    api_groups=[""],
                    resources=["nodes", "services", "pods"],
                    verbs=["get", "list", "watch"],
                ),
                k8s.PolicyRule(
                    api_groups=["discovery.k8s.io"],
                    resources=["endpointslices"],
                    verbs=["get", "list", "watch"],
                ),
                # Scraping the kubelet (metrics and cAdvisor) and the API server.
                k8s.PolicyRule(api_groups=[""], resources=["nodes/metrics"], verbs=["get"]),
                k8s.PolicyRule(non_resource_ur_ls=["/metrics", "/metrics/cadvisor"], verbs=["get"]),
            ],
        )
        self.config_map = k8s.KubeConfigMap(
            self,
            "Config",
            metadata=k8s.ObjectMeta(name=f"{name}-config", labels=labels),
            data={CONFIG_FILE: config_yaml},
        )
        self.service = k8s.KubeService(
            self,
            "Service",
            metadata=metadata,
            spec=k8s.ServiceSpec(
                cluster_ip="None",
                selector=names.selector(name),
                ports=[
                    k8s.ServicePort(
                        name=names.PROMETHEUS_PORT_NAME, port=names.PROMETHEUS_PORT, protocol="TCP"
                    )
                ],
            ),
        )
        self.stateful_set = k8s.KubeStatefulSet(
            self,
            "StatefulSet",
            metadata=metadata,
            spec=k8s.StatefulSetSpec(
                service_name=name,
                replicas=1,  # two agents would scrape and ship every target twice
                selector=k8s.LabelSelector(match_labels=names.selector(name)),
                template=k8s.PodTemplateSpec(
                    # A changed config changes this annotation, which rolls the pod onto the new config.
                    metadata=k8s.ObjectMeta(
                        labels=labels, annotations={CONFIG_CHECKSUM_ANNOTATION: config_checksum}
                    ),
                    spec=self._pod_spec(resources, image),
                ),
                # Scaled to zero (paused), the backlog waits for the agent; deleted, nothing needs it.
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Delete", when_scaled="Retain"
                ),
                volume_claim_templates=[
                    k8s.KubePersistentVolumeClaimProps(
                        metadata=k8s.ObjectMeta(name="wal", labels=labels),
                        spec=k8s.PersistentVolumeClaimSpec(
                            storage_class_name=DISPOSABLE_STORAGE_CLASS,
                            access_modes=["ReadWriteOnce"],
                            resources=k8s.VolumeResourceRequirements(
                                requests={"storage": quantity(f"{wal_volume_gib}Gi")}
                            ),
                        ),
                    )
                ],
            ),
        )

    @staticmethod
    def _pod_spec(resources: Resources, image: str) -> k8s.PodSpec:
        def probe(path: str, *, period: int, failures: int) -> k8s.Probe:
            return k8s.Probe(
                http_get=k8s.HttpGetAction(
                    path=path, port=k8s.IntOrString.from_string(names.PROMETHEUS_PORT_NAME)
                ),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=failures,
            )

        return k8s.PodSpec(
            service_account_name=names.PROMETHEUS_AGENT,
            priority_class_name=names.MONITORING_PRIORITY_CLASS,
            security_context=restricted_pod(user=NOBODY, fs_group=NOBODY),
            termination_grace_period_seconds=TERMINATION_GRACE_SECONDS,
            containers=[
                k8s.Container(
                    name=names.PROMETHEUS_CONTAINER,
                    image=image,
                    args=[
                        "--agent",
                        f"--config.file={CONFIG_MOUNT}/{CONFIG_FILE}",
                        f"--storage.agent.path={WAL_MOUNT}",
                        f"--web.listen-address=:{names.PROMETHEUS_PORT}",
                        f"--storage.remote.flush-deadline={SHUTDOWN_FLUSH_SECONDS}s",
                    ],
                    ports=[
                        k8s.ContainerPort(
                            name=names.PROMETHEUS_PORT_NAME,
                            container_port=names.PROMETHEUS_PORT,
                            protocol="TCP",
                        )
                    ],
                    resources=container_resources(resources),
                    startup_probe=probe("/-/ready", period=5, failures=60),  # WAL replay after a restart
                    readiness_probe=probe("/-/ready", period=10, failures=3),
                    liveness_probe=probe("/-/healthy", period=15, failures=4),
                    security_context=restricted_container(),
                    volume_mounts=[
                        k8s.VolumeMount(name="config", mount_path=CONFIG_MOUNT, read_only=True),
                        k8s.VolumeMount(name="wal", mount_path=WAL_MOUNT),
                    ],
                )
            ],
            volumes=[
                k8s.Volume(
                    name="config",
                    config_map=k8s.ConfigMapVolumeSource(name=f"{names.PROMETHEUS_AGENT}-config"),
                )
            ],
        )
