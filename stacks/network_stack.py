"""The network: a VPC over the configured zones, with flow logs."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from config.platform import PlatformConfig
from stacks.constructs.platform_vpc import PlatformVpc
from stacks.log_retention import retention_days


class NetworkStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        self.network = PlatformVpc(
            self,
            "Network",
            cidr=config.vpc_cidr,
            availability_zones=config.availability_zones,
            nat_gateways=config.nat_gateways,
            log_retention=retention_days(config.log_retention_days),
        )
