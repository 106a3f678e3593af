"""Security contexts that satisfy the `restricted` Pod Security Standard, shared by every workload."""

from __future__ import annotations

from cdk8s_plus_35 import k8s

from config.workloads import Resources

NOBODY = 65534  # the conventional unprivileged uid/gid of the upstream exporter and Prometheus images

PSS_RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def restricted_pod(*, user: int, fs_group: int | None = None) -> k8s.PodSecurityContext:
    """Non-root with a fixed uid/gid and the runtime's default seccomp profile."""
    return k8s.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=user,
        run_as_group=user,
        fs_group=fs_group,
        fs_group_change_policy="OnRootMismatch" if fs_group is not None else None,
        seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
    )


def restricted_container() -> k8s.SecurityContext:
    """No privilege escalation, no capabilities, read-only root filesystem (writable paths are volumes)."""
    return k8s.SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.Capabilities(drop=["ALL"]),
    )


def quantity(value: str) -> k8s.Quantity:
    return k8s.Quantity.from_string(value)


def container_resources(config: Resources) -> k8s.ResourceRequirements:
    """CPU and memory requests, and a memory limit only: CPU limits throttle latency-sensitive pods."""
    return k8s.ResourceRequirements(
        requests={"cpu": quantity(config.cpu_request), "memory": quantity(config.memory_request)},
        limits={"memory": quantity(config.memory_limit)},
    )
