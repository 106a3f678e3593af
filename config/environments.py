"""The environments this app deploys. Edit these to fit your accounts; `app.py` picks one by name.

Each environment is a function building its configuration, called only when that environment is chosen:
a mistake in one environment's values is reported when you synthesize that environment, and does not
stop the others from building.
"""

from __future__ import annotations

from collections.abc import Callable

from config.monitoring import MonitoringConfig
from config.platform import CapacityMode, ConfigError, PlatformConfig
from config.workloads import WorkloadsConfig

_COMMON_TAGS = {"project": "eks-observability-platform", "managed-by": "aws-cdk"}


def dev() -> PlatformConfig:
    return PlatformConfig(
        name="dev",
        region="us-east-1",
        availability_zones=("us-east-1a", "us-east-1b"),
        vpc_cidr="10.40.0.0/16",
        nat_gateways=1,  # one NAT for the whole VPC: cheaper, tolerable outage risk in dev
        capacity_mode=CapacityMode.NODEGROUP,
        node_instance_types=("m7i.large", "m6i.large"),
        node_min_size=2,
        node_max_size=4,
        log_retention_days=30,
        tags={**_COMMON_TAGS, "environment": "dev"},
    )


def prod() -> PlatformConfig:
    return PlatformConfig(
        name="prod",
        region="us-east-1",
        availability_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
        vpc_cidr="10.41.0.0/16",
        nat_gateways=3,  # one NAT per zone: a zone outage does not cut the others off
        capacity_mode=CapacityMode.NODEGROUP,
        node_instance_types=("m7i.xlarge", "m6i.xlarge"),
        node_min_size=3,
        node_max_size=9,
        log_retention_days=365,
        deletion_protection=True,  # set False and deploy before destroying prod
        workloads=WorkloadsConfig(database_secret_customer_managed_key=True),
        monitoring=MonitoringConfig(customer_managed_key=True, metrics_retention_days=400),
        tags={**_COMMON_TAGS, "environment": "prod"},
    )


# Environment name -> the function building its configuration (the name must match the config's `name`).
ENVIRONMENTS: dict[str, Callable[[], PlatformConfig]] = {"dev": dev, "prod": prod}


def environment_config(name: str) -> PlatformConfig:
    """The configuration of the environment called `name`, built now; a ConfigError naming the choices
    for an unknown name, or listing every problem of that environment's values."""
    try:
        build = ENVIRONMENTS[name]
    except KeyError:
        raise ConfigError(name, [f"env: must be one of {sorted(ENVIRONMENTS)} (got {name!r})"]) from None
    return build()
