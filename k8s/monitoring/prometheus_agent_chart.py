"""The Prometheus agents: they discover targets, scrape them, and remote-write to Amazon Managed Prometheus.

One StatefulSet per shard (`prometheus-agent`, then `prometheus-agent-shard-<n>`, prometheus-operator's
naming), each of `replicas` identical agents. A StatefulSet per shard, not a shard derived from one big
StatefulSet's ordinal, because the shard must be in the config file itself (a relabel `keep` regex, which
Prometheus does not expand from the environment): each shard has its own ConfigMap and config checksum.
The replica index is the one thing that differs inside a shard; it reaches the `__replica__` external
label through the pod-index label (downward API) and the environment: Prometheus 3 expands `${VAR}` in
external labels by default (its 3.0 migration guide; the `expand-external-labels` flag of 2.x is gone and
3.x only warns about it: read in the sources of 3.5.0 and 3.13.5, `config.Load`).

Replicas of a shard spread over zones with a `DoNotSchedule` topology spread constraint (max skew 1),
not a required anti-affinity: in several zones both force one agent per zone, but in a one-zone cluster
the anti-affinity leaves the second agent Pending forever, where the spread constraint places it. A
disruption budget per shard lets a drain evict one agent at a time (none with a single replica: the
budget would block every drain), and a crash-looping agent never blocks a drain.

A StatefulSet so the write-ahead log lives on a volume: while AMP is unreachable the backlog waits on
disk, not in memory. On SIGTERM the agent flushes what it scraped before exiting; what is still unsent
after that is not resent after a restart (Prometheus remote write starts from "now", prometheus#8809):
the other replica's copy is what AMP keeps then. The volume is disposable (nothing on it outlives the
agent): the claim goes with the StatefulSet, and its StorageClass deletes the EBS volume with the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
# Set by the StatefulSet controller on each pod: its ordinal (Kubernetes 1.28+).
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
# Which StatefulSet (shard) a pod belongs to: the disruption budget and the spread count per shard.
INSTANCE_LABEL = "app.kubernetes.io/instance"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"


@dataclass(frozen=True, kw_only=True)
class ShardConfig:
    """One shard's rendered agent configuration and its checksum (a change rolls the shard's pods)."""

    config_yaml: str
    checksum: str


class PrometheusAgentChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        shards: Sequence[ShardConfig],
        replicas: int,
        resources: Resources,
        wal_volume_gib: int,
        image: str = PROMETHEUS_IMAGE,
    ) -> None:
        if not shards or replicas < 1:
            raise ValueError(f"need at least one shard and one replica (got {len(shards)}, {replicas})")
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
        self.config_maps: list[k8s.KubeConfigMap] = []
        self.stateful_sets: list[k8s.KubeStatefulSet] = []
        self.disruption_budgets: list[k8s.KubePodDisruptionBudget] = []
        for index, shard in enumerate(shards):
            self._shard(
                index,
                shard,
                replicas=replicas,
                resources=resources,
                wal_volume_gib=wal_volume_gib,
                image=image,
            )

    def _shard(
        self,
        index: int,
        shard: ShardConfig,
        *,
        replicas: int,
        resources: Resources,
        wal_volume_gib: int,
        image: str,
    ) -> None:
        name = names.agent_statefulset(index)
        pod_labels = names.labels(names.PROMETHEUS_AGENT) | {INSTANCE_LABEL: name}
        shard_pods = names.selector(names.PROMETHEUS_AGENT) | {INSTANCE_LABEL: name}
        suffix = "" if index == 0 else f"Shard{index}"
        self.config_maps.append(
            k8s.KubeConfigMap(
                self,
                f"Config{suffix}",
                metadata=k8s.ObjectMeta(name=f"{name}-config", labels=pod_labels),
                data={CONFIG_FILE: shard.config_yaml},
            )
        )
        self.stateful_sets.append(
            k8s.KubeStatefulSet(
                self,
                f"StatefulSet{suffix}",
                metadata=k8s.ObjectMeta(name=name, labels=pod_labels),
                spec=k8s.StatefulSetSpec(
                    service_name=names.PROMETHEUS_AGENT,
                    # Replicas scrape the same targets; AMP keeps one replica's samples (`__replica__`).
                    replicas=replicas,
                    # Shard 0's selector is the one deployed before shards existed: a StatefulSet's selector
                    # cannot change. The controller claims only pods named after it, never another shard's.
                    selector=k8s.LabelSelector(
                        match_labels=names.selector(names.PROMETHEUS_AGENT) if index == 0 else shard_pods
                    ),
                    template=k8s.PodTemplateSpec(
                        # A changed config changes this annotation, which rolls the pods onto the new config.
                        metadata=k8s.ObjectMeta(
                            labels=pod_labels, annotations={CONFIG_CHECKSUM_ANNOTATION: shard.checksum}
                        ),
                        spec=self._pod_spec(
                            resources, image, config_map=f"{name}-config", shard_pods=shard_pods
                        ),
                    ),
                    # Scaled to zero (paused), the backlog waits for the agent; deleted, nothing needs it.
                    persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                        when_deleted="Delete", when_scaled="Retain"
                    ),
                    volume_claim_templates=[
                        k8s.KubePersistentVolumeClaimProps(
                            # As before shards existed: a StatefulSet's claim templates cannot change.
                            metadata=k8s.ObjectMeta(name="wal", labels=names.labels(names.PROMETHEUS_AGENT)),
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
        )
        if replicas > 1:
            self.disruption_budgets.append(
                k8s.KubePodDisruptionBudget(
                    self,
                    f"DisruptionBudget{suffix}",
                    metadata=k8s.ObjectMeta(name=name, labels=pod_labels),
                    spec=k8s.PodDisruptionBudgetSpec(
                        max_unavailable=k8s.IntOrString.from_number(1),
                        selector=k8s.LabelSelector(match_labels=shard_pods),
                        # A crash-looping agent scrapes nothing: evicting it must not wait for it.
                        unhealthy_pod_eviction_policy="AlwaysAllow",
                    ),
                )
            )

    @staticmethod
    def _pod_spec(
        resources: Resources, image: str, *, config_map: str, shard_pods: dict[str, str]
    ) -> k8s.PodSpec:
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
            topology_spread_constraints=[
                # One agent of the shard per zone: a zone outage leaves the other replica scraping.
                k8s.TopologySpreadConstraint(
                    max_skew=1,
                    topology_key=ZONE,
                    when_unsatisfiable="DoNotSchedule",
                    label_selector=k8s.LabelSelector(match_labels=shard_pods),
                ),
                # And, within one zone, preferably on different nodes.
                k8s.TopologySpreadConstraint(
                    max_skew=1,
                    topology_key=HOSTNAME,
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.LabelSelector(match_labels=shard_pods),
                ),
            ],
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
                    env=[
                        k8s.EnvVar(
                            name=names.AGENT_REPLICA_ENV,
                            value_from=k8s.EnvVarSource(
                                field_ref=k8s.ObjectFieldSelector(
                                    field_path=f"metadata.labels['{POD_INDEX_LABEL}']"
                                )
                            ),
                        )
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
                    config_map=k8s.ConfigMapVolumeSource(name=config_map),
                )
            ],
        )
