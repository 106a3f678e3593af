"""node-exporter: one pod per node, host filesystems mounted read-only, scraped per pod (no Service)."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import Resources
from k8s.images import NODE_EXPORTER_IMAGE
from k8s.pod_security import NOBODY, container_resources, restricted_container
from observability import names

# The Kubernetes community's defaults (prometheus-community chart, kube-prometheus): skip pseudo and
# container filesystems and per-pod virtual network devices, which only add series.
ARGS = [
    "--path.procfs=/host/proc",
    "--path.sysfs=/host/sys",
    "--path.rootfs=/host/root",
    "--path.udev.data=/host/root/run/udev/data",
    f"--web.listen-address=:{names.NODE_EXPORTER_PORT}",
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
    "--collector.netclass.ignored-devices=^(veth.*|eni.*|[a-f0-9]{15})$",
    "--collector.netdev.device-exclude=^(veth.*|eni.*|[a-f0-9]{15})$",
]
RESOURCES = Resources(cpu_request="50m", memory_request="48Mi", memory_limit="96Mi")
HOST_MOUNTS = {"proc": ("/proc", "/host/proc"), "sys": ("/sys", "/host/sys"), "root": ("/", "/host/root")}


class NodeExporterChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id_: str, *, image: str = NODE_EXPORTER_IMAGE) -> None:
        # Its own namespace (Pod Security `privileged`): see MonitoringNamespaceChart.
        super().__init__(
            scope, id_, namespace=names.NODE_EXPORTER_NAMESPACE, disable_resource_name_hashes=True
        )
        labels = names.labels(names.NODE_EXPORTER)
        metadata = k8s.ObjectMeta(name=names.NODE_EXPORTER, labels=labels)
        self.service_account = k8s.KubeServiceAccount(
            self, "ServiceAccount", metadata=metadata, automount_service_account_token=False
        )
        self.daemon_set = k8s.KubeDaemonSet(
            self,
            "DaemonSet",
            metadata=metadata,
            spec=k8s.DaemonSetSpec(
                selector=k8s.LabelSelector(match_labels=names.selector(names.NODE_EXPORTER)),
                update_strategy=k8s.DaemonSetUpdateStrategy(
                    type="RollingUpdate",
                    rolling_update=k8s.RollingUpdateDaemonSet(
                        max_unavailable=k8s.IntOrString.from_string("10%")
                    ),
                ),
                # Scraped by the agent's `node-exporter` job per pod: no prometheus.io annotations, so the
                # generic `pods` job never scrapes it a second time.
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels), spec=self._pod_spec(image)
                ),
            ),
        )

    @staticmethod
    def _pod_spec(image: str) -> k8s.PodSpec:
        return k8s.PodSpec(
            service_account_name=names.NODE_EXPORTER,
            automount_service_account_token=False,
            # The host's network and process namespaces: node metrics, not the pod's.
            host_network=True,
            host_pid=True,
            priority_class_name="system-node-critical",
            tolerations=[k8s.Toleration(operator="Exists")],  # every node, whatever its taints
            security_context=k8s.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=NOBODY,
                run_as_group=NOBODY,
                seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                k8s.Container(
                    name=names.NODE_EXPORTER,
                    image=image,
                    args=ARGS,
                    ports=[
                        k8s.ContainerPort(
                            name=names.NODE_EXPORTER_PORT_NAME,
                            container_port=names.NODE_EXPORTER_PORT,
                            protocol="TCP",
                        )
                    ],
                    resources=container_resources(RESOURCES),
                    readiness_probe=k8s.Probe(
                        http_get=k8s.HttpGetAction(
                            path="/", port=k8s.IntOrString.from_string(names.NODE_EXPORTER_PORT_NAME)
                        ),
                        period_seconds=10,
                    ),
                    liveness_probe=k8s.Probe(
                        http_get=k8s.HttpGetAction(
                            path="/", port=k8s.IntOrString.from_string(names.NODE_EXPORTER_PORT_NAME)
                        ),
                        period_seconds=20,
                        failure_threshold=3,
                    ),
                    security_context=restricted_container(),
                    volume_mounts=[
                        k8s.VolumeMount(
                            name=name,
                            mount_path=target,
                            read_only=True,
                            # See mounts made on the host after the pod started (new volumes).
                            mount_propagation="HostToContainer" if name == "root" else None,
                        )
                        for name, (_, target) in HOST_MOUNTS.items()
                    ],
                )
            ],
            volumes=[
                k8s.Volume(name=name, host_path=k8s.HostPathVolumeSource(path=source))
                for name, (source, _) in HOST_MOUNTS.items()
            ],
        )
