"""Settings of the workloads the platform runs and watches: the web app and its Postgres database."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

# Kubernetes quantities we accept: millicores or cores for CPU, Mi/Gi for memory.
_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Mi|Gi)$")
# AWS Backup schedules are EventBridge cron expressions with six fields.
_BACKUP_CRON = re.compile(r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")
# AWS::Backup::BackupVault's BackupVaultName pattern.
_BACKUP_VAULT_NAME = re.compile(r"^[a-zA-Z0-9\-_]{2,50}$")
# An ACM certificate; the group is its region (an ALB only uses certificates of its own region).
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
# Address/prefix only: the load balancer controller parses these with Go's net.ParseCIDR, which refuses a
# bare address or a netmask.
_IPV4_CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")


class IngressScheme(StrEnum):
    INTERNAL = "internal"  # reachable from the VPC (and peered networks) only
    INTERNET_FACING = "internet-facing"


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests and a memory limit (no CPU limit: throttling hurts latency more than it protects)."""

    cpu_request: str  # CPU the scheduler reserves for the container ('250m' or '1')
    memory_request: str  # memory the scheduler reserves ('512Mi' or '1Gi')
    memory_limit: str  # above it the container is OOM-killed; at least memory_request

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
    web_min_replicas: int = 2  # the orders API autoscaler's floor: 1 to web_max_replicas
    web_max_replicas: int = 6  # and its ceiling
    web_target_cpu_percent: int = 70  # the autoscaler's CPU target, percent of the request (10-95)
    # The orders API container's requests and memory limit.
    web_resources: Resources = Resources(cpu_request="100m", memory_request="128Mi", memory_limit="256Mi")
    # `internal`, or `internet-facing` (needs tls_certificate_arn and ingress_allowed_cidrs).
    ingress_scheme: IngressScheme = IngressScheme.INTERNAL
    # The load balancer serves HTTPS with this ACM certificate and redirects HTTP to it. Required when
    # internet-facing; without it an internal load balancer serves plain HTTP inside the VPC.
    tls_certificate_arn: str | None = None
    # Source CIDRs the load balancer's security group admits. Empty means the VPC's CIDR on an internal load
    # balancer; internet-facing requires a list ('0.0.0.0/0' opens it to everyone, so only when listed).
    ingress_allowed_cidrs: tuple[str, ...] = ()
    postgres_volume_gib: int = 20  # the database's volume claim, 1-16384 GiB
    # The Postgres server container's requests and memory limit.
    postgres_resources: Resources = Resources(cpu_request="250m", memory_request="512Mi", memory_limit="1Gi")
    backup_schedule: str = "cron(0 3 * * ? *)"  # daily, 03:00 UTC
    backup_retention_days: int = 35  # days AWS Backup keeps each recovery point (1-36500)
    # The vault outlives `make destroy` (it holds the recovery points), so it has a fixed name: None means
    # "<environment>-orders-db-backups". To deploy again after a destroy, set `adopt_backup_vault=True`:
    # the stack then uses the existing vault of that name instead of creating it.
    backup_vault_name: str | None = None
    adopt_backup_vault: bool = False  # use the existing vault of backup_vault_name's name (after a destroy)
    # Encrypt the database password with a key of its own that only the pods' roles may use to decrypt.
    database_secret_customer_managed_key: bool = False

    def resolved_backup_vault_name(self, environment: str) -> str:
        return self.backup_vault_name or f"{environment}-orders-db-backups"

    def ingress_inbound_cidrs(self, vpc_cidr: str) -> tuple[str, ...]:
        """The CIDRs the load balancer admits: the listed ones, else (internal only) the whole VPC."""
        return self.ingress_allowed_cidrs or (vpc_cidr,)

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
        problems.extend(self._ingress_cidr_problems())
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
        if self.backup_vault_name is not None and not _BACKUP_VAULT_NAME.match(self.backup_vault_name):
            problems.append(
                "workloads.backup_vault_name: must be 2-50 letters, digits, '-' or '_' "
                f"(got {self.backup_vault_name!r})"
            )
        if not 1 <= self.backup_retention_days <= 36500:
            problems.append(
                f"workloads.backup_retention_days: must be 1-36500 (got {self.backup_retention_days!r})"
            )
        return problems

    def _ingress_cidr_problems(self) -> list[str]:
        cidrs = self.ingress_allowed_cidrs
        field_name = "workloads.ingress_allowed_cidrs"
        if isinstance(cidrs, str):  # ("10.0.0.0/8") without the comma is a string, not a tuple
            return [f"{field_name}: must be a tuple of CIDR strings like ('203.0.113.0/24',) (got {cidrs!r})"]
        problems = []
        bad = [cidr for cidr in cidrs if not is_ipv4_network(cidr)]
        if bad:
            problems.append(
                f"{field_name}: must be IPv4 networks like '203.0.113.0/24', no host bits set (got {bad!r})"
            )
        if len(set(cidrs)) != len(cidrs):
            problems.append(f"{field_name}: must not list a CIDR twice (got {list(cidrs)!r})")
        if self.ingress_scheme is IngressScheme.INTERNET_FACING and not cidrs:
            problems.append(
                f"{field_name}: required when ingress_scheme is 'internet-facing' (list the clients' "
                "networks; '0.0.0.0/0' admits the whole internet and is never implied)"
            )
        return problems


def is_ipv4_network(cidr: object) -> bool:
    """An IPv4 `address/prefix` whose address is the network's own (no host bits set)."""
    if not isinstance(cidr, str) or not _IPV4_CIDR.match(cidr):
        return False
    try:
        ipaddress.IPv4Network(cidr)  # strict: refuses host bits
    except ValueError:
        return False
    return True


def mebibytes(quantity: str) -> int:
    number, unit = int(quantity[:-2]), quantity[-2:]
    return number * 1024 if unit == "Gi" else number
