"""Settings of the workloads the platform runs and watches: the web app and its Postgres database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Kubernetes quantities we accept: millicores or cores for CPU, Mi/Gi for memory.
_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Mi|Gi)$")
# AWS Backup schedules are EventBridge cron expressions with six fields.
_BACKUP_CRON = re.compile(r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")
# An ACM certificate; the group is its region (an ALB only uses certificates of its own region).
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")


class IngressScheme(StrEnum):
    INTERNAL = "internal"  # reachable from the VPC (and peered networks) only
    INTERNET_FACING = "internet-facing"


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests and a memory limit (no CPU limit: throttling hurts latency more than it protects)."""

    cpu_request: str
    memory_request: str
    memory_limit: str

    def problems(self, prefix: str) -> list[str]:
        problems = []
        if not _CPU.match(self.cpu_request):
            problems.append(f"{prefix}.cpu_request: must look like '250m' or '1' (got {self.cpu_request!r})")
        memory = {"memory_request": self.memory_request, "memory_limit": self.memory_limit}
        for field_name, value in memory.items():
            if not _MEMORY.match(value):
                problems.append(f"{prefix}.{field_name}: must look like '512Mi' or '1Gi' (got {value!r})")
        valid = all(_MEMORY.match(value) for value in memory.values())
        if valid and mebibytes(self.memory_request) > mebibytes(self.memory_limit):
            problems.append(f"{prefix}.memory_limit: must be >= memory_request ({self.memory_request})")
        return problems


@dataclass(frozen=True, kw_only=True)
class WorkloadsConfig:
    web_min_replicas: int = 2
    web_max_replicas: int = 6
    web_target_cpu_percent: int = 70
    web_resources: Resources = Resources(cpu_request="100m", memory_request="128Mi", memory_limit="256Mi")
    ingress_scheme: IngressScheme = IngressScheme.INTERNAL
    # The load balancer serves HTTPS with this ACM certificate and redirects HTTP to it. Required when
    # internet-facing; without it an internal load balancer serves plain HTTP inside the VPC.
    tls_certificate_arn: str | None = None
    postgres_volume_gib: int = 20
    postgres_resources: Resources = Resources(cpu_request="250m", memory_request="512Mi", memory_limit="1Gi")
    backup_schedule: str = "cron(0 3 * * ? *)"  # daily, 03:00 UTC
    backup_retention_days: int = 35

    def problems(self) -> list[str]:
        """Every broken rule, each naming its field as `workloads.<field>`."""
        problems = []
        if not 1 <= self.web_min_replicas <= self.web_max_replicas:
            problems.append(
                "workloads.web_min_replicas: must be at least 1 and at most web_max_replicas "
                f"({self.web_max_replicas}) (got {self.web_min_replicas!r})"
            )
        if self.tls_certificate_arn is not None and not ACM_CERTIFICATE_ARN.match(self.tls_certificate_arn):
            problems.append(
                "workloads.tls_certificate_arn: must be an ACM certificate ARN like "
                f"'arn:aws:acm:<region>:<account>:certificate/<id>' (got {self.tls_certificate_arn!r})"
            )
        if self.ingress_scheme is IngressScheme.INTERNET_FACING and self.tls_certificate_arn is None:
            problems.append(
                "workloads.tls_certificate_arn: required when ingress_scheme is 'internet-facing' "
                "(the app is not served to the internet over plain HTTP)"
            )
        if not 10 <= self.web_target_cpu_percent <= 95:
            problems.append(
                f"workloads.web_target_cpu_percent: must be 10-95 (got {self.web_target_cpu_percent!r})"
            )
        for name in ("web_resources", "postgres_resources"):
            resources: Resources = getattr(self, name)
            problems.extend(resources.problems(f"workloads.{name}"))
        if not 1 <= self.postgres_volume_gib <= 16384:
            problems.append(
                "workloads.postgres_volume_gib: must be 1-16384 (the gp3 limit) "
                f"(got {self.postgres_volume_gib!r})"
            )
        if not _BACKUP_CRON.match(self.backup_schedule):
            problems.append(
                "workloads.backup_schedule: must be an AWS cron expression like 'cron(0 3 * * ? *)' "
                f"(got {self.backup_schedule!r})"
            )
        if not 1 <= self.backup_retention_days <= 36500:
            problems.append(
                f"workloads.backup_retention_days: must be 1-36500 (got {self.backup_retention_days!r})"
            )
        return problems


def mebibytes(quantity: str) -> int:
    number, unit = int(quantity[:-2]), quantity[-2:]
    return number * 1024 if unit == "Gi" else number
