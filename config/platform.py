"""The platform's configuration schema and its validation rules.

Every environment is one frozen `PlatformConfig`. Validation runs in `__post_init__`, so an invalid
environment fails before any construct exists, with one error listing every field and broken rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from config.alerting import AlertingConfig
from config.grafana import GrafanaConfig
from config.images import image_digest_problems
from config.monitoring import MonitoringConfig
from config.workloads import ACM_CERTIFICATE_ARN, WorkloadsConfig

# The one place the Kubernetes version lives. EKS 1.29 left extended support on 2026-03-23 and can no
# longer be created; 1.35 is in standard support until 2027-03-27.
KUBERNETES_VERSION = "1.35"
# Versions this code base can deploy: the kubectl Lambda layer must match the cluster's minor version and
# we ship `aws-cdk.lambda-layer-kubectl-v35` only.
SUPPORTED_KUBERNETES_VERSIONS = frozenset({KUBERNETES_VERSION})

# EKS managed add-ons whose version `addon_versions` may pin: the node-group mode installs them all (Auto
# Mode has the first five built in); metrics-server and the Secrets Store CSI provider go in both modes.
MANAGED_ADDONS = (
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "eks-pod-identity-agent",
    "aws-ebs-csi-driver",
    "metrics-server",
    "aws-secrets-store-csi-driver-provider",
)

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
     3288, 3653}
)  # fmt: skip

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+(-[a-z0-9]+)?$")  # also metal-24xl sizes
# Graviton families carry a `g` after the generation digit: m7g, c7gn, r8gd, t4g.
_ARM_INSTANCE_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*(-flex)?\.")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_TAG_KEY = re.compile(r"^(?!aws:)[\w .:/=+@-]{1,128}$")


class CapacityMode(StrEnum):
    """How worker capacity is provided."""

    NODEGROUP = "nodegroup"  # managed node group + EKS managed add-ons
    AUTO = "auto"  # EKS Auto Mode: AWS runs compute, storage and networking components


class EndpointAccessMode(StrEnum):
    """Who can reach the Kubernetes API server endpoint."""

    PRIVATE = "private"  # only from inside the VPC
    PUBLIC_AND_PRIVATE = "public_and_private"  # VPC, plus the internet restricted to listed CIDRs


class ConfigError(ValueError):
    """An environment's configuration breaks one or more rules; the message names each field."""

    def __init__(self, environment: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid configuration for environment {environment!r}:\n{listing}")


@dataclass(frozen=True, kw_only=True)
class PlatformConfig:
    """Everything that differs between environments. Read only by `app.py`."""

    # The environment's name (`dev`, `prod`): `make synth ENV=<name>`; the stage is its capitalised form.
    name: str
    # Where the stage deploys.
    region: str
    # Listed, so synth never looks them up (2 or 3).
    availability_zones: tuple[str, ...]
    # Target account (optional: the default synth needs none; `make deploy ACCOUNT=...` sets it).
    account: str | None = None
    # The VPC's range, /16 to /20.
    vpc_cidr: str = "10.0.0.0/16"
    # 0 to the number of zones; 0 adds VPC endpoints instead (docs/decisions/no-nat.md).
    nat_gateways: int = 1
    # Defined once as KUBERNETES_VERSION; the kubectl layer must match it.
    kubernetes_version: str = KUBERNETES_VERSION
    # `nodegroup` (managed node group, add-ons, Cluster Autoscaler) or `auto` (EKS Auto Mode).
    capacity_mode: CapacityMode = CapacityMode.NODEGROUP
    # One architecture for all; in Auto Mode the workloads NodePool's types (large/xlarge/<N>xlarge only).
    node_instance_types: tuple[str, ...] = ("m7i.large",)
    # The node group's floor; the Cluster Autoscaler scales between min and max.
    node_min_size: int = 2
    # The node group's ceiling; Auto Mode caps its pool at this many nodes of the largest type.
    node_max_size: int = 4
    # `private`, or `public_and_private` restricted to public_access_cidrs.
    endpoint_access: EndpointAccessMode = EndpointAccessMode.PRIVATE
    # The networks that may reach a public API endpoint.
    public_access_cidrs: tuple[str, ...] = ()
    # IAM roles/users given cluster-admin access entries (the deploying role gets none implicitly).
    admin_principal_arns: tuple[str, ...] = ()
    # IAM roles/users that may run `make verify` directly, besides the stage's CDK deploy role (must exist).
    verifier_principal_arns: tuple[str, ...] = ()
    # Unset → EKS installs its default version for the cluster's Kubernetes version.
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    # CloudWatch retention of flow logs, AMP logs and EKS control-plane logs.
    log_retention_days: int = 30
    # EKS refuses to delete a protected cluster: turn this off (and deploy) before destroying.
    deletion_protection: bool = False
    # Tags on every resource.
    tags: Mapping[str, str] = field(default_factory=dict)
    workloads: WorkloadsConfig = field(default_factory=WorkloadsConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    grafana: GrafanaConfig = field(default_factory=GrafanaConfig)
    # Image key → "sha256:..." read from the registry the nodes pull from; unset → by tag (config/images.py).
    image_digests: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [
            *self._identity_problems(),
            *self._network_problems(),
            *self._cluster_problems(),
            *self.workloads.problems(),
            *self._certificate_region_problems(),
            *self.monitoring.problems(),
            *self.alerting.problems(),
            *self.grafana.problems(),
            *image_digest_problems(self.image_digests),
        ]
        if problems:
            raise ConfigError(self.name, problems)

    @property
    def az_count(self) -> int:
        return len(self.availability_zones)

    @property
    def auto_mode_cpu_limit(self) -> int:
        """Auto Mode has no node count to cap: its workloads NodePool is capped at the vCPUs of
        `node_max_size` nodes of the largest listed type."""
        return self.node_max_size * max(node_vcpus(t) or 0 for t in self.node_instance_types)

    @property
    def node_architecture(self) -> str:
        """`arm64` for Graviton instance types, else `x86_64` (validation keeps them all alike)."""
        return node_architecture(self.node_instance_types[0])

    def _certificate_region_problems(self) -> list[str]:
        arn = self.workloads.tls_certificate_arn
        match = ACM_CERTIFICATE_ARN.match(arn) if arn is not None else None
        if match is None or match.group(1) == self.region or not _REGION.match(self.region):
            return []  # no certificate, a malformed one (reported by workloads), or a bad region
        return [
            f"workloads.tls_certificate_arn: must be in the load balancer's region {self.region!r} "
            f"(got {match.group(1)!r})"
        ]

    def _identity_problems(self) -> list[str]:
        problems = []
        if not _ENV_NAME.match(self.name):
            problems.append(f"name: must be 1-16 lowercase letters, digits or '-' (got {self.name!r})")
        if self.account is not None and not _ACCOUNT.match(self.account):
            problems.append(f"account: must be a 12-digit AWS account id (got {self.account!r})")
        if not _REGION.match(self.region):
            problems.append(f"region: must be an AWS region code like 'eu-west-1' (got {self.region!r})")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(
                f"log_retention_days: must be one of CloudWatch's periods {sorted(LOG_RETENTION_DAYS)} "
                f"(got {self.log_retention_days!r})"
            )
        for key, value in self.tags.items():
            if not _TAG_KEY.match(key) or len(value) > 256:
                problems.append(
                    f"tags: key {key!r} must be 1-128 characters, not start with 'aws:', "
                    "and its value at most 256 characters"
                )
        return problems

    def _network_problems(self) -> list[str]:
        problems = []
        azs = self.availability_zones
        if len(azs) < 2 or len(set(azs)) != len(azs):
            problems.append(f"availability_zones: must list at least 2 distinct zones (got {azs!r})")
        wrong_region = [az for az in azs if not re.fullmatch(rf"{re.escape(self.region)}[a-z]", az)]
        if wrong_region and _REGION.match(self.region):  # a bad region is reported once, on its own
            problems.append(
                f"availability_zones: every zone must be in region {self.region!r} (got {wrong_region!r})"
            )
        try:
            network = ipaddress.IPv4Network(self.vpc_cidr)
            if not 16 <= network.prefixlen <= 20:
                problems.append(f"vpc_cidr: prefix must be /16 to /20 (got {self.vpc_cidr!r})")
        except ValueError:
            problems.append(f"vpc_cidr: must be an IPv4 network like '10.0.0.0/16' (got {self.vpc_cidr!r})")
        if not 0 <= self.nat_gateways <= len(azs):
            problems.append(
                f"nat_gateways: must be between 0 and the number of availability zones ({len(azs)}) "
                f"(got {self.nat_gateways!r})"
            )
        return problems

    def _cluster_problems(self) -> list[str]:
        problems = []
        if self.kubernetes_version not in SUPPORTED_KUBERNETES_VERSIONS:
            problems.append(
                f"kubernetes_version: must be one of {sorted(SUPPORTED_KUBERNETES_VERSIONS)} "
                f"(got {self.kubernetes_version!r})"
            )
        if not self.node_instance_types:
            problems.append("node_instance_types: must list at least one instance type")
        bad_types = [t for t in self.node_instance_types if not _INSTANCE_TYPE.match(t)]
        if bad_types:
            problems.append(f"node_instance_types: must look like 'm7i.large' (got {bad_types!r})")
        if len({node_architecture(t) for t in self.node_instance_types}) > 1:
            problems.append(
                "node_instance_types: must all be Graviton (arm64) or all x86_64, one node image serves them "
                f"(got {list(self.node_instance_types)!r})"
            )
        unsized = [t for t in self.node_instance_types if node_vcpus(t) is None]
        if self.capacity_mode is CapacityMode.AUTO and unsized and not bad_types:
            problems.append(
                "node_instance_types: in Auto Mode each size must be large, xlarge or <N>xlarge (their vCPUs "
                f"cap the workloads NodePool at node_max_size nodes) (got {unsized!r})"
            )
        if self.node_min_size < 1:
            problems.append(f"node_min_size: must be at least 1 (got {self.node_min_size!r})")
        if self.node_min_size > self.node_max_size:
            problems.append(
                f"node_max_size: must be >= node_min_size ({self.node_min_size}) (got {self.node_max_size!r})"
            )
        problems.extend(self._endpoint_problems())
        for name in ("admin_principal_arns", "verifier_principal_arns"):
            bad_arns = [arn for arn in getattr(self, name) if not _IAM_PRINCIPAL_ARN.match(arn)]
            if bad_arns:
                problems.append(f"{name}: must be IAM role or user ARNs (got {bad_arns!r})")
        for addon, version in self.addon_versions.items():
            if addon not in MANAGED_ADDONS:
                problems.append(f"addon_versions: unknown add-on {addon!r}; known: {list(MANAGED_ADDONS)}")
            elif not _ADDON_VERSION.match(version):
                problems.append(
                    f"addon_versions: {addon} version must look like 'v1.2.3-eksbuild.1' (got {version!r})"
                )
        return problems

    def _endpoint_problems(self) -> list[str]:
        cidrs = self.public_access_cidrs
        if self.endpoint_access is EndpointAccessMode.PRIVATE:
            if cidrs:
                return ["public_access_cidrs: must be empty when endpoint_access is 'private'"]
            return []
        if not cidrs:
            return ["public_access_cidrs: must list the CIDRs allowed when endpoint_access is public"]
        problems = []
        for cidr in cidrs:
            try:
                network = ipaddress.ip_network(cidr)
            except ValueError:
                problems.append(f"public_access_cidrs: {cidr!r} is not a CIDR block")
                continue
            if network.prefixlen == 0:
                problems.append(f"public_access_cidrs: {cidr!r} opens the API to the whole internet")
        return problems


def node_architecture(instance_type: str) -> str:
    return "arm64" if _ARM_INSTANCE_FAMILY.match(instance_type) else "x86_64"


def node_vcpus(instance_type: str) -> int | None:
    """vCPUs of a `large` (2), `xlarge` (4) or `<N>xlarge` (4N) type, as in every current EC2 family;
    None for sizes whose count differs between families (medium and below, metal)."""
    size = instance_type.split(".", 1)[-1]
    if size == "large":
        return 2
    multiple = re.fullmatch(r"(\d*)xlarge", size)
    return 4 * int(multiple.group(1) or 1) if multiple else None
