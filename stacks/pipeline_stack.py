"""The toolchain stack: the delivery pipeline and the platform stages it deploys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from config.pipeline import PipelineConfig
from observability.render import Artifacts
from stacks.constructs.delivery_pipeline import DeliveryPipeline
from stacks.naming import construct_id
from stacks.platform_stage import PlatformStage


class PipelineStack(Stack):
    """`artifacts`: what each stage deploys from the services and the spec, by environment name."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        pipeline: PipelineConfig,
        config_path: str,
        artifacts: Mapping[str, Artifacts],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope, id_, env=Environment(account=pipeline.account, region=pipeline.region), **kwargs
        )
        self.delivery = DeliveryPipeline(self, "Delivery", pipeline=pipeline, config_path=config_path)
        # Children of the stack, not of the pipeline construct: the pipeline's cdk-nag acknowledgements must
        # not reach the stages' stacks.
        self.stages: dict[str, PlatformStage] = {}
        for target in pipeline.stages:
            stage = PlatformStage(
                self,
                construct_id(target.environment),
                config=target.platform_config(),
                artifacts=artifacts[target.environment],
                pipeline_account=pipeline.account,
            )
            self.delivery.add_platform_stage(stage, environment=target.environment, approval=target.approval)
            self.stages[target.environment] = stage
        self.delivery.build()
