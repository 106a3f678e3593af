"""The toolchain stack (CDK Pipelines) synthesized from the example pipeline config: its stages, approval,
steps, Docker setting and roles; cdk-nag and cfn-lint clean; one snapshot; the CLI finds the stack."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from app import build_pipeline, select_pipeline
from config import ConfigError
from config.pipeline import PipelineConfig
from stacks.constructs.delivery_pipeline import CDK_CLI_VERSION, PIPELINE_OUTDIR
from stacks.naming import VERIFIER_ROLE_TAG_KEY, VERIFIER_ROLE_TAG_VALUE
from stacks.pipeline_stack import PipelineStack
from stacks.verification_outputs import ALL as VERIFICATION_OUTPUTS
from tests.unit.conftest import CDK_CONTEXT, REPOSITORY, run_cfn_lint
from tests.unit.test_deploy_path import cdk_ls, make_dry_run

EXAMPLE = "config/pipeline.example.yaml"
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class Toolchain:
    config: PipelineConfig
    stack: PipelineStack
    outdir: Path
    template_json: dict[str, Any]

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json)

    def pipeline_stages(self) -> dict[str, list[dict[str, Any]]]:
        (pipeline,) = self.template.find_resources("AWS::CodePipeline::Pipeline").values()
        return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}

    def project(self, logical_id_prefix: str) -> dict[str, Any]:
        projects = self.template.find_resources("AWS::CodeBuild::Project")
        (project,) = [dict(p) for lid, p in projects.items() if lid.startswith(logical_id_prefix)]
        return project

    def nag(self) -> dict[str, Any]:
        report = json.loads((self.outdir / "validation-report.json").read_text())
        (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
        return nag


def synthesize_toolchain(outdir: Path, path: str = EXAMPLE) -> Toolchain:
    app = cdk.App(outdir=str(outdir), context=CDK_CONTEXT)
    config, relative = select_pipeline(str(REPOSITORY / path))
    stack = build_pipeline(app, config, config_path=relative)
    assembly = app.synth()
    return Toolchain(config, stack, outdir, assembly.get_stack_artifact(stack.artifact_id).template)


@pytest.fixture(scope="module")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    return synthesize_toolchain(tmp_path_factory.mktemp("cdk-pipeline"))


def build_spec(project: dict[str, Any]) -> dict[str, Any]:
    return json.loads(project["Properties"]["Source"]["BuildSpec"])


def test_pipeline_is_v2_with_the_connection_source(toolchain):
    toolchain.template.has_resource_properties("AWS::CodePipeline::Pipeline", {"PipelineType": "V2"})
    (source,) = toolchain.pipeline_stages()["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": toolchain.config.connection_arn,
        "FullRepositoryId": "example-org/eks-observability-platform",
        "BranchName": "main",
    }


def test_the_source_role_may_use_a_codeconnections_connection(toolchain):
    """aws-cdk-lib grants `codestar-connections:UseConnection` only; the renamed service's ARN needs its own
    action (the IAM service prefix must match the resource's)."""
    toolchain.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["codeconnections:UseConnection"]),
                                "Resource": toolchain.config.connection_arn,
                            }
                        )
                    ]
                )
            }
        },
    )


def test_synth_runs_the_readme_commands_on_a_large_debian_12_machine(toolchain):
    """The tests run Debian 12's apt packages (what CI runs): synth runs on Debian 12 too, which has no
    CodeBuild runtimes to select (`runtime-versions` would fail the build) and installs its Python."""
    synth = toolchain.project("DeliveryPipelineBuildSynth")
    spec = build_spec(synth)
    assert synth["Properties"]["Environment"]["Image"] == "public.ecr.aws/docker/library/debian:bookworm"
    assert "runtime-versions" not in spec["phases"]["install"]
    assert any("python3-venv" in command for command in spec["phases"]["install"]["commands"])
    assert spec["phases"]["build"]["commands"] == [
        "make test",
        f"make synth-pipeline PIPELINE_CONFIG={EXAMPLE}",
    ]
    assert spec["artifacts"]["base-directory"] == PIPELINE_OUTDIR
    assert synth["Properties"]["Environment"]["ComputeType"] == "BUILD_GENERAL1_LARGE"
    assert synth["Properties"]["TimeoutInMinutes"] >= 30


def test_stages_deploy_dev_then_prod_with_an_approval_before_prod_only(toolchain):
    stages = toolchain.pipeline_stages()
    assert list(stages)[-2:] == ["Dev", "Prod"]
    approvals = {
        name: [a["Name"] for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        for name, actions in stages.items()
    }
    assert approvals["Prod"] == ["Approve"]
    assert all(not v for k, v in approvals.items() if k != "Prod")
    prod = stages["Prod"]
    first_deploy = min(a["RunOrder"] for a in prod if a["ActionTypeId"]["Category"] == "Deploy")
    assert next(a for a in prod if a["Name"] == "Approve")["RunOrder"] < first_deploy
    for name, account in (("Dev", "222222222222"), ("Prod", "333333333333")):
        roles = {
            json.dumps(a["Configuration"].get("RoleArn"))
            for a in stages[name]
            if "RoleArn" in a["Configuration"]
        }
        assert roles
        assert all(
            f":iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-us-east-1" in r for r in roles
        )


@pytest.mark.parametrize(
    ("stage", "environment", "account"), [("Dev", "dev", "222222222222"), ("Prod", "prod", "333333333333")]
)
def test_each_stage_is_verified_last_with_its_outputs(toolchain, stage, environment, account):
    actions = toolchain.pipeline_stages()[stage]
    verify = max(actions, key=lambda a: a["RunOrder"])
    assert verify["Name"] == "Verify"
    assert all(a["RunOrder"] < verify["RunOrder"] for a in actions if a is not verify)
    variables = {v["name"]: v["value"] for v in json.loads(verify["Configuration"]["EnvironmentVariables"])}
    assert set(variables) == {output.env_var for output in VERIFICATION_OUTPUTS}
    stage_ids = {
        s.node.id: s for s in toolchain.stack.stages[environment].node.children if isinstance(s, cdk.Stack)
    }
    for output in VERIFICATION_OUTPUTS:
        namespace = stage_ids[output.stack_id].artifact_id
        assert variables[output.env_var] == f"#{{{namespace}.{output.output_id}}}"

    project = toolchain.project(f"DeliveryPipeline{stage}Verify")
    assert build_spec(project)["phases"]["build"]["commands"] == ["make verify"]
    assert build_spec(project)["phases"]["install"]["runtime-versions"] == {"python": "3.11"}
    env = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    assert env == {"ENV": environment, "AWS_REGION": "us-east-1"}
    assert "VpcConfig" not in project["Properties"]

    role_id = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    policies = toolchain.template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    )
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (assume,) = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    assert assume["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:role/*"]]
    }
    assert assume["Condition"] == {
        "StringEquals": {f"iam:ResourceTag/{VERIFIER_ROLE_TAG_KEY}": VERIFIER_ROLE_TAG_VALUE}
    }
    # The step's role is on the path the stage's verifier role trusts, and only CodeBuild may use it.
    role = toolchain.template_json["Resources"][role_id]["Properties"]
    assert role["Path"] == "/deployment-verification/"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}}
    ]


def test_stages_trust_the_toolchain_accounts_verify_steps_only(toolchain):
    """The stage's verifier role is assumable from the pipeline's account by the verify-step roles (their
    path), never by the account as a whole."""
    for stage in toolchain.stack.stages.values():
        assert set(stage.verification_outputs) == {o.env_var for o in VERIFICATION_OUTPUTS}
        roles = Template.from_stack(stage.verification).find_resources("AWS::IAM::Role")
        (role,) = [r for k, r in roles.items() if "VerifierRole" in k]
        statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        from_toolchain = [s for s in statements if "111111111111:root" in json.dumps(s["Principal"])]
        assert [s["Condition"] for s in from_toolchain] == [
            {
                "ArnLike": {
                    "aws:PrincipalArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":iam::111111111111:role/deployment-verification/*",
                            ],
                        ]
                    }
                }
            }
        ]
        for statement in statements:
            assert ":root" not in json.dumps(statement["Principal"]) or "Condition" in statement


def test_cross_account_artifacts_are_encrypted_with_a_rotating_key(toolchain):
    toolchain.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    (pipeline,) = toolchain.template.find_resources("AWS::CodePipeline::Pipeline").values()
    store = pipeline["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"


def test_the_web_app_image_is_published_by_a_privileged_project(toolchain):
    """CDK Pipelines builds Docker image assets in the asset publishing step (privileged); synth and
    self-mutation need no Docker: the image is only staged at synth."""
    projects = toolchain.template.find_resources("AWS::CodeBuild::Project")
    privileged = {lid for lid, p in projects.items() if p["Properties"]["Environment"]["PrivilegedMode"]}
    assert privileged
    assert all(lid.startswith("DeliveryPipelineAssetsDockerAsset") for lid in privileged)
    (docker,) = [projects[lid] for lid in privileged]
    # One project per asset type publishes every asset of its type: its build spec is a file in the
    # assembly (it lists every asset, so it is not inlined in the template).
    spec = yaml.safe_load((toolchain.outdir / docker["Properties"]["Source"]["BuildSpec"]).read_text())
    commands = spec["phases"]["build"]["commands"]
    assert any("cdk-assets" in c and "Workloads" in c for c in commands)


def test_one_project_per_asset_type_publishes_every_asset(toolchain):
    """Not one project per asset: every rule groups namespace is a nested stack whose template is an
    asset, and per-asset projects would grow with the services."""
    projects = toolchain.template.find_resources("AWS::CodeBuild::Project")
    assets = sorted(lid.removeprefix("DeliveryPipelineAssets")[:9] for lid in projects if "Assets" in lid)
    assert assets == ["DockerAss", "FileAsset"]
    (files,) = [p for lid, p in projects.items() if lid.startswith("DeliveryPipelineAssetsFileAsset")]
    spec = yaml.safe_load((toolchain.outdir / files["Properties"]["Source"]["BuildSpec"]).read_text())
    published = " ".join(spec["phases"]["build"]["commands"])
    # The monitoring stacks' asset manifests, which list their nested stacks' templates, are published.
    manifests = sorted(toolchain.outdir.glob("assembly-Toolchain-*/*Monitoring*.assets.json"))
    assert len(manifests) == 2  # dev and prod
    for manifest in manifests:
        assert f"{manifest.parent.name}/{manifest.name}" in published
        sources = [f["source"].get("path", "") for f in json.loads(manifest.read_text())["files"].values()]
        for namespace in ("SlosOrders", "PlatformAlerts"):
            assert any(f"Rules{namespace}" in s and s.endswith(".nested.template.json") for s in sources)


def test_self_mutation_uses_the_pinned_cli():
    package = json.loads((REPOSITORY / "package.json").read_text())
    assert package["devDependencies"]["aws-cdk"] == CDK_CLI_VERSION


def test_self_mutation_installs_the_pinned_cli(toolchain):
    spec = build_spec(toolchain.project("DeliveryPipelineUpdatePipelineSelfMutation"))
    assert spec["phases"]["install"]["commands"] == [f"npm install -g aws-cdk@{CDK_CLI_VERSION}"]


def test_cdk_nag_finds_nothing_unacknowledged_in_toolchain_and_stages(toolchain):
    nag = toolchain.nag()
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    for finding in nag["suppressedViolations"]:
        assert len(finding["reason"]) >= 50, f"reason too thin for {finding['acknowledgedId']}"


def test_pipeline_acknowledgements_stay_on_the_pipeline_and_name_one_finding_each(toolchain):
    """Acknowledged next to the resources CDK Pipelines generates (or the verify-step roles given to it),
    never on the stack (that would hide findings of the stages' stacks), and never a bulk IAM5."""
    suppressed = toolchain.nag()["suppressedViolations"]
    toolchain_acks = [
        s for s in suppressed if not s["acknowledgedAt"].startswith(("Toolchain/Dev/", "Toolchain/Prod/"))
    ]
    assert toolchain_acks
    for finding in toolchain_acks:
        assert finding["acknowledgedAt"].startswith(
            (
                "Toolchain/Delivery/Pipeline/",
                "Toolchain/Delivery/VerifyDevRole",
                "Toolchain/Delivery/VerifyProdRole",
            )
        )
        assert finding["acknowledgedId"] != "AwsSolutions::AwsSolutions-IAM5"


def test_cdk_nag_fails_the_pipeline_synth_on_a_new_finding(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    config, relative = select_pipeline(str(REPOSITORY / EXAMPLE))
    stack = build_pipeline(app, config, config_path=relative)
    cdk.aws_iam.Role(
        stack, "Careless", assumed_by=cdk.aws_iam.ServicePrincipal("codebuild.amazonaws.com")
    ).add_to_policy(cdk.aws_iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()


# cfn-lint 1.58's E3703 wants the CloudFormation actions' RoleArn (the stage account's cfn-exec role, which
# aws-cdk-lib writes as Fn::Join over the partition) as Fn::Sub: a style preference, not an invalid ARN.
_JOIN_STYLE = "E3703 Prefer using Fn::Sub over Fn::Join with an empty delimiter"


def test_cfn_lint_finds_no_errors_in_the_toolchain_template(toolchain):
    result = run_cfn_lint([str(toolchain.outdir / f"{toolchain.stack.artifact_id}.template.json")])
    errors = [
        line
        for line in result.stdout.splitlines()
        if re.match(r"^E\d{4} ", line) and not line.startswith(_JOIN_STYLE)
    ]
    assert errors == [], result.stdout + result.stderr


def test_toolchain_template_matches_snapshot(toolchain, snapshot):
    normalised = json.loads(
        _ASSET_HASH.sub("<asset-hash>", json.dumps(toolchain.template_json, sort_keys=True))
    )
    assert normalised == snapshot.use_extension(JSONSnapshotExtension)


def test_make_synth_pipeline_synthesizes_offline_into_its_own_directory():
    command = make_dry_run("synth-pipeline")
    assert command[:4] == ["npx", "--no-install", "cdk", "synth"]
    assert {"--quiet", "--no-notices", f"pipeline={EXAMPLE}"} <= set(command)
    assert command[command.index("--output") + 1] == PIPELINE_OUTDIR != "cdk.out"
    mine = make_dry_run("synth-pipeline", PIPELINE_CONFIG="config/pipeline.yaml")
    assert "pipeline=config/pipeline.yaml" in mine
    assert not any(arg.startswith("pipeline=") for arg in make_dry_run("synth")), "make synth stays as it was"


def test_pipeline_synth_needs_no_lookup(toolchain):
    """Offline (`make synth-pipeline`) and in the pipeline's synth step, which may not assume the stage
    accounts' lookup roles, no context is missing: the CLI would otherwise call AWS and fail."""
    for manifest in toolchain.outdir.rglob("manifest.json"):
        assert "missing" not in json.loads(manifest.read_text()), manifest.parent.name


def test_the_cli_lists_the_toolchain_stack_in_the_pipeline_assembly(toolchain):
    """`cdk deploy Toolchain` (the one manual deploy) selects the toolchain stack alone; the stages' stacks
    are deployed by the pipeline."""
    assert cdk_ls(toolchain.outdir, "Toolchain") == ["Toolchain"]
    listed = cdk_ls(toolchain.outdir)
    assert "Toolchain" in listed
    assert {"Toolchain/Dev/Network", "Toolchain/Prod/Verification"} <= set(listed)


def test_a_bad_pipeline_config_or_a_file_outside_the_repository_is_refused(tmp_path):
    bad = tmp_path / "pipeline.yaml"
    bad.write_text((REPOSITORY / EXAMPLE).read_text())
    with pytest.raises(ConfigError, match="pipeline: must be a file inside the repository"):
        select_pipeline(str(bad))
    with pytest.raises(ConfigError, match="file: must be a readable file"):
        select_pipeline(str(REPOSITORY / "config" / "absent.yaml"))


def test_the_app_exits_with_the_one_error_message_on_a_bad_pipeline_config(tmp_path):
    """As with a bad `-c env=`: no traceback, the ConfigError's message and a non-zero exit."""
    bad = tmp_path / "pipeline.yaml"
    bad.write_text("account: 1\n")
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPOSITORY,
        env={
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps({"pipeline": str(bad)}),
            "CDK_OUTDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"invalid pipeline configuration {str(bad)!r}:\n  - pipeline: must be a file"
    )
    assert "Traceback" not in result.stderr


def test_a_single_account_pipeline_is_nag_clean_too(tmp_path):
    """Toolchain, dev and prod in one account: every stage's findings are still acknowledged."""
    example = select_pipeline(str(REPOSITORY / EXAMPLE))[0]
    one_account = dataclasses.replace(
        example,
        stages=tuple(dataclasses.replace(s, account=example.account) for s in example.stages),
    )
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    build_pipeline(app, one_account, config_path=EXAMPLE)
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    # The example's stages subscribe nobody to their pages, the platform's nor the orders team's: the only
    # findings are those warnings, on both stages.
    findings = [v for p in report["pluginReports"] for v in p["violations"]]
    assert [(v["ruleName"], v["severity"]) for v in findings] == [
        ("Annotation::platform:pagesReachNoOne", "warning"),
        ("Annotation::platform:teamPagesReachNoOne", "warning"),
    ]
    assert sorted(c["constructPath"] for c in findings[0]["violatingConstructs"]) == [
        "Toolchain/Dev/Monitoring/Alerts",
        "Toolchain/Prod/Monitoring/Alerts",
    ]
    assert sorted(c["constructPath"] for c in findings[1]["violatingConstructs"]) == [
        "Toolchain/Dev/Monitoring/Alerts/TeamOrders",
        "Toolchain/Prod/Monitoring/Alerts/TeamOrders",
    ]
