"""The documented deploy path (README, docs/operate/deploy.md): the commands select the stacks, and a user
finds what they need after deploying (outputs), after destroying (the retained backup vault) and when
restoring."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import select_config
from config import ConfigError
from stacks.constructs.volume_backup import VolumeBackup
from tests.unit.conftest import REPOSITORY

CLI_ENV = {
    **os.environ,
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}


def make_dry_run(target: str, **variables: str) -> list[str]:
    """The command `make <target>` would run (its last line), split like a shell would."""
    assignments = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, *assignments],
        cwd=REPOSITORY,
        env=CLI_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return shlex.split(result.stdout.strip().splitlines()[-1])


def cdk_ls(assembly: Path, *selectors: str) -> list[str]:
    """Stack display names the pinned CDK CLI selects in an already synthesized assembly."""
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "ls", "--no-notices", "--app", str(assembly), *selectors],
        cwd=REPOSITORY,
        env=CLI_ENV,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [line.split(" (")[0] for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("target", ["synth", "deploy", "destroy", "ls"])
def test_documented_commands_select_exactly_the_stages_stacks(dev, prod, target):
    """`make deploy|destroy|ls ENV=...` pass the CLI a selector that the pinned CLI resolves to the six
    stacks of that environment's stage, and to no stack of another environment."""
    for synth in (dev, prod):
        command = make_dry_run(target, ENV=synth.config.name, ACCOUNT="123456789012")
        assert command[:4] == ["npx", "--no-install", "cdk", target]
        assert "--all" not in command
        selectors = [arg for arg in command if "/" in arg and not arg.startswith("cdk.out/")]
        expected = sorted(
            stack.node.path for stack in synth.stage.node.children if isinstance(stack, cdk.Stack)
        )
        assert len(expected) == 6
        assert sorted(cdk_ls(synth.outdir, *selectors)) == expected
        other = prod if synth is dev else dev
        assert not set(expected) & set(cdk_ls(other.outdir)), "a selector must not reach another environment"


NO_PAGE_SUBSCRIBER = "WARNING Pages reach no one: alerting.page_emails is empty"


def pinned_cli(*args: str, env: dict[str, str] = CLI_ENV) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npx", "--no-install", "cdk", *args],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_make_synth_prints_the_no_page_subscriber_warning(dev):
    """Dev subscribes nobody to pages. `make synth` selects the stage's stacks, and the pinned CLI prints
    the warnings of selected stacks even with --quiet (run here on the already synthesized assembly)."""
    command = make_dry_run("synth", ENV="dev")
    assert {"--quiet", "Dev/*"} <= set(command)
    result = pinned_cli("synth", "--no-notices", "--quiet", "--app", str(dev.outdir), "Dev/*")
    assert result.returncode == 0, result.stderr
    assert NO_PAGE_SUBSCRIBER in result.stderr
    assert "Dev/Monitoring/Alerts" in result.stderr


def test_make_deploy_prints_the_no_page_subscriber_warning_before_deploying(dev, tmp_path):
    """`make deploy` is `cdk deploy` on the stage's stacks: the pinned CLI prints the warning before it
    needs an account. Here no credentials can be found (no AWS_* variables, no config files, no instance
    metadata), so it stops there: nothing is deployed."""
    command = make_dry_run("deploy", ENV="dev")
    assert "--quiet" not in command
    assert "Dev/*" in command
    no_credentials = {k: v for k, v in CLI_ENV.items() if not k.startswith("AWS_")} | {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = pinned_cli(
        "deploy",
        "--no-notices",
        "--app",
        str(dev.outdir),
        "Dev/*",
        "--require-approval",
        "never",
        env=no_credentials,
    )
    assert result.returncode != 0
    assert NO_PAGE_SUBSCRIBER in result.stderr
    assert result.stderr.index(NO_PAGE_SUBSCRIBER) < result.stderr.index("Unable to resolve AWS account")


def test_deploy_passes_environment_account_and_outputs_file():
    command = make_dry_run("deploy", ENV="prod", ACCOUNT="123456789012", ADOPT_BACKUP_VAULT="true")
    assert {"env=prod", "account=123456789012", "adopt-backup-vault=true"} <= set(command)
    assert command[command.index("--outputs-file") + 1] == "cdk.out/outputs-prod.json"


# Outputs a user (and the coming post-deploy checks) read after a deployment, by stack role.
REQUIRED_OUTPUTS = {
    "Cluster": {"ClusterName", "ClusterArn", "KubeconfigCommand"},
    "Grafana": {"GrafanaWorkspaceUrl", "GrafanaWorkspaceId"},
    "Verification": {"VerifierRoleArn", "ClusterProbeFunctionArn"},
    "Workloads": {"BackupVaultName", "BackupRestoreRoleArn", "DatabaseSecretArn", "WebappImageUri"},
    "Monitoring": {
        "PrometheusWorkspaceId",
        "PrometheusWorkspaceArn",
        "PrometheusQueryUrl",
        "AlertPageTopicArn",
        "AlertTicketTopicArn",
        "AlertWatchdogTopicArn",
    },
}


@pytest.mark.parametrize("role", sorted(REQUIRED_OUTPUTS))
def test_stacks_output_what_users_look_up(dev, auto, role):
    for synth in (dev, auto):
        outputs = synth.templates[role].get("Outputs", {})
        assert REQUIRED_OUTPUTS[role] <= set(outputs)
        for name, output in outputs.items():
            if name.startswith(("PublishOutput", "ExportsOutput")):
                continue  # generated by aws-cdk-lib for references between stacks, not for people
            assert output.get("Description"), f"{role} output {name} has no description"


def test_query_url_is_the_workspace_query_endpoint(dev):
    query_url = dev.templates["Monitoring"]["Outputs"]["PrometheusQueryUrl"]["Value"]
    endpoint, path = query_url["Fn::Join"][1]
    assert endpoint["Fn::GetAtt"][1] == "PrometheusEndpoint"  # ends in "/"
    assert path == "api/v1/query"


def test_backup_vault_has_a_stable_name_from_config(dev, prod):
    for synth, name in ((dev, "dev-orders-db-backups"), (prod, "prod-orders-db-backups")):
        vault = synth.single_resource("Workloads", "AWS::Backup::BackupVault")
        assert vault["Properties"]["BackupVaultName"] == name
        assert vault["DeletionPolicy"] == "Retain"


def _backup_alone(*, adopt: bool) -> Template:
    stack = cdk.Stack(cdk.App(), "Backup")
    VolumeBackup(
        stack,
        "Backup",
        tag_key="backup-plan",
        tag_value="platform-databases",
        schedule="cron(0 3 * * ? *)",
        retention_days=35,
        vault_name="dev-orders-db-backups",
        adopt_existing_vault=adopt,
    )
    return Template.from_stack(stack)


def test_redeploy_after_destroy_adopts_the_retained_vault():
    """A second deployment after `make destroy` must not create a vault whose name the retained one holds
    (AlreadyExists): with adopt, the plan backs up into the existing vault by name."""
    adopted = _backup_alone(adopt=True)
    adopted.resource_count_is("AWS::Backup::BackupVault", 0)
    adopted.resource_count_is("AWS::KMS::Key", 0)
    adopted.has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [Match.object_like({"TargetBackupVault": "dev-orders-db-backups"})]
            }
        },
    )
    _backup_alone(adopt=False).resource_count_is("AWS::Backup::BackupVault", 1)


def test_adopt_context_reaches_the_config_and_rejects_other_values():
    app = cdk.App(context={"env": "dev", "adopt-backup-vault": "true"})
    assert select_config(app).workloads.adopt_backup_vault is True
    assert select_config(cdk.App(context={"env": "dev"})).workloads.adopt_backup_vault is False
    with pytest.raises(ConfigError, match="adopt-backup-vault: must be true or false"):
        select_config(cdk.App(context={"env": "dev", "adopt-backup-vault": "yes"}))


def test_restore_role_may_restore_and_is_not_the_backup_role(dev):
    template = dev.template("Workloads")
    restore_policy = Match.object_like(
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, Match.string_like_regexp("ForRestores$")]]}
    )
    roles = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"ManagedPolicyArns": Match.array_with([restore_policy])}}
    )
    assert len(roles) == 1
    (restore_id, restore_role) = next(iter(roles.items()))
    statement = restore_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    selection = dev.single_resource("Workloads", "AWS::Backup::BackupSelection")
    assert selection["Properties"]["BackupSelection"]["IamRoleArn"] != {"Fn::GetAtt": [restore_id, "Arn"]}
    output = dev.templates["Workloads"]["Outputs"]["BackupRestoreRoleArn"]["Value"]
    assert output == {"Fn::GetAtt": [restore_id, "Arn"]}
