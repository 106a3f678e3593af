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

from config import ConfigError, PlatformConfig, environment_config


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
    stage_id = "".join(part.capitalize() for part in config.name.split("-"))
    from stacks.platform_stage import PlatformStage  # after validation: nothing is built for bad config

    PlatformStage(app, stage_id, config=config)
    app.synth()


if __name__ == "__main__":
    main()
