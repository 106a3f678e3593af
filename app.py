#!/usr/bin/env python3
"""Entry point: picks one environment's configuration and synthesizes its stage.

Every stack lives in the environment's Stage (`Dev`, `Prod`), so select stacks as `'Dev/*'`: `--all`
selects only top-level stacks and finds none. The Makefile does this for you:

make synth                                  # dev (ENV=prod for prod)
make deploy ENV=dev ACCOUNT=123456789012    # = cdk deploy -c env=dev -c account=123456789012 'Dev/*'
make destroy ENV=dev                        # = cdk destroy -c env=dev 'Dev/*'
make deploy ENV=dev ADOPT_BACKUP_VAULT=true # after a destroy: reuse the retained backup vault

Context: `env` (default dev), `account` (optional), `adopt-backup-vault` (true/false, default false),
`services` (the folder of service files, default services/; `make bench` points it at generated ones).
With `-c pipeline=<yaml inside the repository>` (`make synth-pipeline`), the app is instead the toolchain
stack `Toolchain`: CDK Pipelines deploying the stages that file lists (config/pipeline.example.yaml).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from config import ConfigError, PlatformConfig, environment_config
from config.pipeline import PipelineConfig, PipelineConfigError, load_pipeline_config
from observability.model.load import Services, load, load_default
from observability.render import Artifacts, render
from observability.spec.problems import SpecError
from stacks.naming import construct_id
from stacks.pipeline_stack import PipelineStack
from stacks.platform_stage import PlatformStage
from stacks.template_limits import TemplateLimits

REPOSITORY = Path(__file__).resolve().parent


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


def select_pipeline(path: str) -> tuple[PipelineConfig, str]:
    """The pipeline configuration named by `-c pipeline=`, and its path relative to the repository (the
    pipeline's synth step, on a fresh checkout, reads the same file)."""
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(REPOSITORY):
        raise PipelineConfigError(
            path, [f"pipeline: must be a file inside the repository {REPOSITORY} (got {path!r})"]
        )
    return load_pipeline_config(resolved), resolved.relative_to(REPOSITORY).as_posix()


def select_services(app: cdk.App) -> Services:
    """Every service file, checked before anything is built: services/, or the folder `-c services=`."""
    root = app.node.try_get_context("services")
    return load(Path(str(root)).resolve()) if root else load_default()


def main() -> None:
    app = cdk.App()
    pipeline_path = app.node.try_get_context("pipeline")
    try:
        if pipeline_path:
            pipeline, relative_path = select_pipeline(str(pipeline_path))
        else:
            config = select_config(app)
        services = select_services(app)
        for target in [t.platform_config() for t in pipeline.stages] if pipeline_path else [config]:
            check_teams(target, services)
        if pipeline_path:
            build_pipeline(app, pipeline, config_path=relative_path, services=services)
        else:
            build(app, config, services=services)
    except ConfigError as error:
        # A user's mistake: the list of problems, no traceback (only the chosen environment is built).
        sys.exit(str(error))
    except SpecError as error:
        sys.exit(f"The service files break {len(error.problems)} rule(s):\n{error}")
    app.synth()


def check_teams(config: PlatformConfig, services: Services) -> None:
    """The config's team channels name teams of services/teams.yaml (a typo would route nowhere)."""
    known = [team.name for team in services.teams]
    unknown = sorted(set(config.alerting.team_channels) - set(known))
    if unknown:
        raise ConfigError(
            config.name,
            [
                f"alerting.team_channels.{team}: must be a team of services/teams.yaml {known}"
                for team in unknown
            ],
        )


def artifacts(config: PlatformConfig, services: Services | None = None) -> Artifacts:
    """What one environment deploys from the services and the observability spec."""
    return render(
        services=services or load_default(),
        runbook_base_url=config.alerting.runbook_base_url,
        grafana_version=config.grafana.grafana_version,
        collector=config.monitoring.collector,
    )


def build(app: cdk.App, config: PlatformConfig, *, services: Services | None = None) -> PlatformStage:
    """The environment's stage, checked by cdk-nag's AwsSolutions pack and CloudFormation's template size:
    a finding fails the synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), TemplateLimits())
    return PlatformStage(app, construct_id(config.name), config=config, artifacts=artifacts(config, services))


def build_pipeline(
    app: cdk.App, pipeline: PipelineConfig, *, config_path: str, services: Services | None = None
) -> PipelineStack:
    """The toolchain stack and the stages it deploys, all checked by cdk-nag like `build`."""
    for target in pipeline.stages:
        config = target.platform_config()
        # A VPC in a stack with an explicit account checks its zones against the account's, which synth
        # would look up with AWS calls (none offline, nor from the pipeline without `--trust-for-lookup`):
        # the zones are fixed in config, so answer the lookup with them.
        app.node.set_context(
            f"availability-zones:account={config.account}:region={config.region}",
            list(config.availability_zones),
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), TemplateLimits())
    return PipelineStack(
        app,
        "Toolchain",
        pipeline=pipeline,
        config_path=config_path,
        artifacts={
            target.environment: artifacts(target.platform_config(), services) for target in pipeline.stages
        },
        description="Delivery: CDK Pipelines deploying the platform's stages, each verified after deploy",
    )


if __name__ == "__main__":
    main()
