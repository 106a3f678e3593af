"""Postgres as a single-replica StatefulSet on an encrypted, backed-up gp3 volume, with its exporter."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import Resources
from k8s.images import POSTGRES_EXPORTER_IMAGE, POSTGRES_IMAGE
from k8s.pod_security import container_resources, quantity, restricted_container, restricted_pod
from k8s.secrets import secrets_volume, secrets_volume_mount
from k8s.storage_chart import BACKED_UP_STORAGE_CLASS
from observability import names

POSTGRES_UID = 999  # the `postgres` user of the official Debian-based image
DATA_MOUNT = "/var/lib/postgresql/data"
# A subdirectory: the volume's root holds `lost+found`, which initdb refuses.
PGDATA = f"{DATA_MOUNT}/pgdata"
CONFIG_MOUNT = "/etc/postgresql"
PASSWORD_FILE = f"{names.SECRETS_MOUNT_PATH}/{names.DB_PASSWORD_FILE}"
SERVER_SETTINGS = {
    "listen_addresses": "'*'",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "password_encryption": "scram-sha-256",
    "log_min_duration_statement": "500",  # log statements slower than 500 ms
    "log_connections": "off",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}
SCRAPE_ANNOTATIONS = names.scrape_annotations(
    port=names.POSTGRES_EXPORTER_PORT, path=names.POSTGRES_EXPORTER_METRICS_PATH
)
EXPORTER_RESOURCES = Resources(cpu_request="20m", memory_request="32Mi", memory_limit="64Mi")


class PostgresChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resources: Resources,
        volume_gib: int,
        secret_provider_class: str,
        image: str = POSTGRES_IMAGE,
        exporter_image: str = POSTGRES_EXPORTER_IMAGE,
    ) -> None:
        super().__init__(scope, id_, namespace=names.APP_NAMESPACE, disable_resource_name_hashes=True)
        labels = names.labels(names.POSTGRES)
        metadata = k8s.ObjectMeta(name=names.POSTGRES, labels=labels)
        self.service_account = k8s.KubeServiceAccount(
            self, "ServiceAccount", metadata=metadata, automount_service_account_token=False
        )
        self.config_map = k8s.KubeConfigMap(
            self,
            "Config",
            metadata=k8s.ObjectMeta(name=f"{names.POSTGRES}-config", labels=labels),
            data={"postgresql.conf": "".join(f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items())},
        )
        self.service = k8s.KubeService(
            self,
            "Service",
            metadata=metadata,
            spec=k8s.ServiceSpec(
                cluster_ip="None",  # headless: a stable DNS name for the StatefulSet's pod
                selector=names.selector(names.POSTGRES),
                ports=[
                    k8s.ServicePort(name="postgres", port=names.POSTGRES_PORT, protocol="TCP"),
                    k8s.ServicePort(name="metrics", port=names.POSTGRES_EXPORTER_PORT, protocol="TCP"),
                ],
            ),
        )
        self.stateful_set = k8s.KubeStatefulSet(
            self,
            "StatefulSet",
            metadata=metadata,
            spec=k8s.StatefulSetSpec(
                service_name=names.POSTGRES,
                replicas=1,
                selector=k8s.LabelSelector(match_labels=names.selector(names.POSTGRES)),
                # Deleting or scaling the StatefulSet never deletes the database volume.
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels, annotations=SCRAPE_ANNOTATIONS),
                    spec=self._pod_spec(resources, secret_provider_class, image, exporter_image),
                ),
                volume_claim_templates=[
                    k8s.KubePersistentVolumeClaimProps(
                        metadata=k8s.ObjectMeta(name="data", labels=labels),
                        spec=k8s.PersistentVolumeClaimSpec(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=BACKED_UP_STORAGE_CLASS,
                            resources=k8s.VolumeResourceRequirements(
                                requests={"storage": quantity(f"{volume_gib}Gi")}
                            ),
                        ),
                    )
                ],
            ),
        )
        # One replica: block voluntary evictions, so a drain waits for an operator (or the node
        # group's forced update) instead of silently taking the database down.
        self.disruption_budget = k8s.KubePodDisruptionBudget(
            self,
            "DisruptionBudget",
            metadata=metadata,
            spec=k8s.PodDisruptionBudgetSpec(
                min_available=k8s.IntOrString.from_number(1),
                selector=k8s.LabelSelector(match_labels=names.selector(names.POSTGRES)),
            ),
        )

    def _pod_spec(
        self, resources: Resources, secret_provider_class: str, image: str, exporter_image: str
    ) -> k8s.PodSpec:
        def pg_isready(*, period: int, failures: int) -> k8s.Probe:
            command = ["pg_isready", "-h", "127.0.0.1", "-p", str(names.POSTGRES_PORT)]
            command += ["-U", names.POSTGRES_USER, "-d", names.POSTGRES_DATABASE]
            return k8s.Probe(
                exec=k8s.ExecAction(command=command),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=failures,
            )

        return k8s.PodSpec(
            service_account_name=names.POSTGRES,
            automount_service_account_token=False,
            security_context=restricted_pod(user=POSTGRES_UID, fs_group=POSTGRES_UID),
            termination_grace_period_seconds=60,  # a clean shutdown checkpoints; no crash recovery at start
            containers=[
                k8s.Container(
                    name=names.POSTGRES,
                    image=image,
                    args=["-c", f"config_file={CONFIG_MOUNT}/postgresql.conf"],
                    ports=[
                        k8s.ContainerPort(name="postgres", container_port=names.POSTGRES_PORT, protocol="TCP")
                    ],
                    env=[
                        k8s.EnvVar(name="PGDATA", value=PGDATA),
                        k8s.EnvVar(name="POSTGRES_DB", value=names.POSTGRES_DATABASE),
                        k8s.EnvVar(name="POSTGRES_USER", value=names.POSTGRES_USER),
                        k8s.EnvVar(name="POSTGRES_PASSWORD_FILE", value=PASSWORD_FILE),
                        k8s.EnvVar(name="POSTGRES_INITDB_ARGS", value="--auth-host=scram-sha-256"),
                    ],
                    resources=container_resources(resources),
                    startup_probe=pg_isready(period=5, failures=60),
                    liveness_probe=pg_isready(period=15, failures=4),
                    readiness_probe=pg_isready(period=5, failures=2),
                    security_context=restricted_container(),
                    volume_mounts=[
                        k8s.VolumeMount(name="data", mount_path=DATA_MOUNT),
                        k8s.VolumeMount(name="config", mount_path=CONFIG_MOUNT, read_only=True),
                        k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
                        k8s.VolumeMount(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
                        secrets_volume_mount(),
                    ],
                ),
                self._exporter(exporter_image),
            ],
            volumes=[
                k8s.Volume(
                    name="config",
                    config_map=k8s.ConfigMapVolumeSource(name=f"{names.POSTGRES}-config"),
                ),
                k8s.Volume(name="run", empty_dir=k8s.EmptyDirVolumeSource(size_limit=quantity("16Mi"))),
                k8s.Volume(name="tmp", empty_dir=k8s.EmptyDirVolumeSource(size_limit=quantity("256Mi"))),
                secrets_volume(secret_provider_class),
            ],
        )

    @staticmethod
    def _exporter(image: str) -> k8s.Container:
        return k8s.Container(
            name=names.POSTGRES_EXPORTER,
            image=image,
            ports=[
                k8s.ContainerPort(name="metrics", container_port=names.POSTGRES_EXPORTER_PORT, protocol="TCP")
            ],
            env=[
                k8s.EnvVar(
                    name="DATA_SOURCE_URI",
                    value=f"127.0.0.1:{names.POSTGRES_PORT}/{names.POSTGRES_DATABASE}?sslmode=disable",
                ),
                k8s.EnvVar(name="DATA_SOURCE_USER", value=names.POSTGRES_USER),
                k8s.EnvVar(name="DATA_SOURCE_PASS_FILE", value=PASSWORD_FILE),
            ],
            # Its own memory limit: a leaking exporter is OOM-killed alone, never the database.
            resources=container_resources(EXPORTER_RESOURCES),
            # No readiness probe: the pod's readiness (its DNS record, the app's connections) is the
            # database's alone. A hung exporter is restarted by itself (liveness restarts only this
            # container); `/` is its landing page, served without touching the database.
            liveness_probe=k8s.Probe(
                http_get=k8s.HttpGetAction(path="/", port=k8s.IntOrString.from_string("metrics")),
                period_seconds=20,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            security_context=restricted_container(),
            volume_mounts=[secrets_volume_mount()],
        )
