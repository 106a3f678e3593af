#!/usr/bin/env python3
"""Entry point: picks one environment's configuration and synthesizes its stage.

Every stack lives in the environment's Stage (`Dev`, `Prod`), so select stacks as `'Dev/*'`: `--all`
selects only top-level stacks and finds none. The Makefile does this for you:

make synth                                  # dev (ENV=prod for prod)
make deploy ENV=dev ACCOUNT=123456789012    # = cdk deploy -c env=dev -c account=123456789012 'Dev/*'
make destroy ENV=dev                        # = cdk destroy -c env=dev 'Dev/*'
make deploy ENV=dev ADOPT_BACKUP_VAULT=true # after a destroy: reuse the retained backup vault

Context: `env` (default dev), `account` (optional), `adopt-backup-vault` (true/false, default false).
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
    """The environment named by `-c env=` (default dev), with optional `-c account=` and
    `-c adopt-backup-vault=` overrides."""
    config = environment_config(str(app.node.try_get_context("env") or "dev"))
    account = app.node.try_get_context("account")
    if account is not None:
        config = dataclasses.replace(config, account=str(account))
    adopt = app.node.try_get_context("adopt-backup-vault")
    if adopt is not None:
        if str(adopt).lower() not in ("true", "false"):
            raise ConfigError(config.name, [f"adopt-backup-vault: must be true or false (got {adopt!r})"])
        workloads = dataclasses.replace(config.workloads, adopt_backup_vault=str(adopt).lower() == "true")
        config = dataclasses.replace(config, workloads=workloads)
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
