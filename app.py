#!/usr/bin/env python3
"""Entry point: picks one environment's configuration and synthesizes its stage.

cdk synth                       # dev
cdk synth -c env=prod           # prod
cdk deploy -c env=dev -c account=123456789012 --all
"""

from __future__ import annotations

import dataclasses
import sys

import aws_cdk as cdk
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from config import ConfigError, PlatformConfig, environment_config
from stacks.naming import construct_id
from stacks.platform_stage import PlatformStage


def select_config(app: cdk.App) -> PlatformConfig:
    """The environment named by `-c env=` (default dev), with an optional `-c account=` override."""
    config = environment_config(str(app.node.try_get_context("env") or "dev"))
    account = app.node.try_get_context("account")
    if account is not None:
        config = dataclasses.replace(config, account=str(account))
    return config


def main() -> None:
    app = cdk.App()
    try:
        config = select_config(app)
    except ConfigError as error:
        sys.exit(str(error))
    build(app, config)
    app.synth()


def build(app: cdk.App, config: PlatformConfig) -> PlatformStage:
    """The environment's stage, checked by cdk-nag's AwsSolutions pack: a finding fails the synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return PlatformStage(app, construct_id(config.name), config=config)


if __name__ == "__main__":
    main()
