"""Typed, validated configuration: one frozen dataclass instance per environment."""

from config.environments import ENVIRONMENTS, environment_config
from config.platform import (
    KUBERNETES_VERSION,
    CapacityMode,
    ConfigError,
    EndpointAccessMode,
    PlatformConfig,
)

__all__ = [
    "ENVIRONMENTS",
    "KUBERNETES_VERSION",
    "CapacityMode",
    "ConfigError",
    "EndpointAccessMode",
    "PlatformConfig",
    "environment_config",
]
