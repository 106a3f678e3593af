"""The command line: where the outputs come from, the verifier role, exit codes and output."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from scripts import verify_deployment
from scripts.verification import aws as aws_module
from scripts.verification.settings import SettingsError, from_environment, from_outputs_file
from stacks import verification_outputs
from tests.verification.fakes import ROLE_ARN, Aws, FakeServer, probe_answer
from tests.verification.test_checks import all_up, healthy_control_planes

QUERY_URL = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/query"
VALUES = {
    "VERIFY_PROMETHEUS_WORKSPACE_ID": "ws-1",
    "VERIFY_PROMETHEUS_QUERY_URL": QUERY_URL,
    "VERIFY_GRAFANA_HEALTH_CHECK_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:health",
    "VERIFY_ROLE_ARN": ROLE_ARN,
    "VERIFY_PROBE_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:probe",
    "VERIFY_WATCHDOG_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:watchdog",
    "VERIFY_PAGE_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:page",
    "VERIFY_TICKET_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:ticket",
    "VERIFY_PROMETHEUS_LOG_GROUP": "/aws/vendedlogs/prometheus/DevMonitoring-Prometheus-5ECEE68B",
}


def outputs_file(tmp_path: Path, values: dict[str, str], stage: str = "Dev") -> Path:
    """What `cdk deploy --outputs-file` writes: stack name -> output logical id -> value."""
    stacks: dict[str, dict[str, str]] = {}
    for output in verification_outputs.ALL:
        if output.env_var in values:
            stacks.setdefault(f"{stage}-{output.stack_id}", {})[output.output_id] = values[output.env_var]
    path = tmp_path / "outputs-dev.json"
    path.write_text(json.dumps(stacks))
    return path


def test_outputs_file_as_make_deploy_writes_it(tmp_path: Path) -> None:
    settings = from_outputs_file(outputs_file(tmp_path, VALUES), "dev", {})

    assert settings.prometheus_workspace_id == "ws-1"
    assert settings.role_arn == ROLE_ARN
    assert settings.region == "eu-west-1"  # from the query URL when AWS_REGION is unset
    # Alert delivery reads the Monitoring stack's topic and log group outputs.
    assert settings.watchdog_topic_arn == "arn:aws:sns:eu-west-1:123456789012:watchdog"
    assert (settings.page_topic_arn, settings.ticket_topic_arn) == (
        "arn:aws:sns:eu-west-1:123456789012:page",
        "arn:aws:sns:eu-west-1:123456789012:ticket",
    )
    assert settings.prometheus_log_group == "/aws/vendedlogs/prometheus/DevMonitoring-Prometheus-5ECEE68B"


def test_outputs_file_missing_a_delivery_output_names_it(tmp_path: Path) -> None:
    values = {k: v for k, v in VALUES.items() if k != "VERIFY_PROMETHEUS_LOG_GROUP"}
    with pytest.raises(SettingsError, match=r"missing Dev-Monitoring\.PrometheusLogGroupName$"):
        from_outputs_file(outputs_file(tmp_path, values), "dev", {})


def test_outputs_file_missing_an_output_names_it(tmp_path: Path) -> None:
    values = {k: v for k, v in VALUES.items() if k != "VERIFY_PROBE_FUNCTION_ARN"}
    with pytest.raises(SettingsError, match=r"missing Dev-Verification\.ClusterProbeFunctionArn$"):
        from_outputs_file(outputs_file(tmp_path, values), "dev", {})


def test_environment_wins_and_must_be_complete() -> None:
    env = {**VALUES, "AWS_REGION": "us-west-2"}
    settings = from_environment(env)
    assert settings is not None
    assert settings.region == "us-west-2"
    assert from_environment({}) is None
    with pytest.raises(SettingsError, match="missing VERIFY_ROLE_ARN"):
        from_environment({k: v for k, v in VALUES.items() if k != "VERIFY_ROLE_ARN"})


def test_connect_assumes_the_verifier_role() -> None:
    session = boto3.Session(
        aws_access_key_id="AKIDCALLER", aws_secret_access_key="x", region_name="eu-west-1"
    )
    sts = session.client("sts")
    stub = Stubber(sts)
    expiry = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    stub.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": "ASIAVERIFIER0000001",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": expiry,
            }
        },
        {"RoleArn": ROLE_ARN, "RoleSessionName": "deployment-verification"},
    )

    class Session:
        def client(self, name: str, **_: Any) -> Any:
            assert name == "sts"
            return sts

    with stub:
        clients = aws_module.connect(region="eu-west-1", role_arn=ROLE_ARN, session=Session())

    assert clients.credentials.access_key == "ASIAVERIFIER0000001"
    assert clients.amp._request_signer._credentials.access_key == "ASIAVERIFIER0000001"
    stub.assert_no_pending_responses()


def test_main_exit_codes_and_output(
    aws: Aws,
    server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in VALUES:
        monkeypatch.delenv(name, raising=False)
    settings = aws.settings()
    values = {
        "VERIFY_PROMETHEUS_WORKSPACE_ID": settings.prometheus_workspace_id,
        "VERIFY_PROMETHEUS_QUERY_URL": settings.prometheus_query_url,
        "VERIFY_GRAFANA_HEALTH_CHECK_ARN": settings.grafana_health_check_arn,
        "VERIFY_ROLE_ARN": settings.role_arn,
        "VERIFY_PROBE_FUNCTION_ARN": settings.probe_function_arn,
        "VERIFY_WATCHDOG_TOPIC_ARN": settings.watchdog_topic_arn,
        "VERIFY_PAGE_TOPIC_ARN": settings.page_topic_arn,
        "VERIFY_TICKET_TOPIC_ARN": settings.ticket_topic_arn,
        "VERIFY_PROMETHEUS_LOG_GROUP": settings.prometheus_log_group,
    }
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    connected: list[tuple[str, str | None]] = []

    def connect(*, region: str, role_arn: str | None, **_: Any) -> Any:
        connected.append((region, role_arn))
        return aws.clients()

    monkeypatch.setattr(verify_deployment, "connect", connect)
    path = outputs_file(tmp_path, values)
    all_up(server)
    healthy_control_planes(aws)
    aws.probe(probe_answer(ready=False))

    code = verify_deployment.main(["--env", "dev", "--outputs-file", str(path), "--timeout", "0"])

    out = capsys.readouterr().out
    assert code == 1
    assert connected == [("eu-west-1", ROLE_ARN)]
    assert "FAIL  web app readiness endpoint answers 200: 1/2 pods answered 200 on /readyz: b 503" in out
    assert out.count("PASS  ") == 9
    assert "PASS  Watchdog notification reached its SNS topic: 1 published to " in out
    assert out.rstrip().endswith("9/10 checks passed: FAILED")


def test_main_without_outputs_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in VALUES:
        monkeypatch.delenv(name, raising=False)

    code = verify_deployment.main(["--env", "dev", "--outputs-file", str(tmp_path / "none.json")])

    assert code == 2
    assert "run `make deploy ENV=dev` first" in capsys.readouterr().err


REAL_SESSION = boto3.Session
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1"


def _credentials(key: str) -> dict[str, Any]:
    expiry = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    return {
        "Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expiry}
    }


class _Sessions:
    """boto3.Session stand-in: real sessions whose STS client is one stubbed client (every AssumeRole)."""

    def __init__(self) -> None:
        self.sts = REAL_SESSION(aws_access_key_id="AKIDCALLER", aws_secret_access_key="x").client(
            "sts", region_name="eu-west-1"
        )
        self.stub = Stubber(self.sts)

    def __call__(self, **kwargs: Any) -> Any:
        session = REAL_SESSION(**kwargs)
        sts = self.sts
        real_client = session.client

        def client(name: str, **options: Any) -> Any:
            return sts if name == "sts" else real_client(name, **options)

        session.client = client
        return session


def test_connect_goes_through_the_cdk_deploy_role_when_the_caller_is_not_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = _Sessions()
    monkeypatch.setattr(boto3, "Session", sessions)
    sessions.stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
    sessions.stub.add_response(
        "assume_role", _credentials("ASIADEPLOY000000001"), {"RoleArn": DEPLOY_ROLE, "RoleSessionName": ANY}
    )
    sessions.stub.add_response(
        "assume_role", _credentials("ASIAVERIFIER0000001"), {"RoleArn": ROLE_ARN, "RoleSessionName": ANY}
    )
    lines: list[str] = []

    with sessions.stub:
        clients = aws_module.connect(region="eu-west-1", role_arn=ROLE_ARN, notify=lines.append)

    assert clients.credentials.access_key == "ASIAVERIFIER0000001"
    assert lines == [f"Assumed the verifier role through the CDK deploy role {DEPLOY_ROLE}"]
    sessions.stub.assert_no_pending_responses()


def test_connect_says_who_is_trusted_when_neither_way_works(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = _Sessions()
    monkeypatch.setattr(boto3, "Session", sessions)
    sessions.stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
    sessions.stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)

    with sessions.stub, pytest.raises(aws_module.AssumeRoleError) as failure:
        aws_module.connect(region="eu-west-1", role_arn=ROLE_ARN)

    assert str(failure.value).startswith(f"cannot assume the verifier role {ROLE_ARN}: it trusts the stage's")
    assert "add your role to verifier_principal_arns" in str(failure.value)


def test_bootstrap_qualifier_follows_cdk_json(tmp_path: Path) -> None:
    custom = tmp_path / "cdk.json"
    custom.write_text(json.dumps({"context": {"@aws-cdk/core:bootstrapQualifier": "platform1"}}))
    assert aws_module.bootstrap_qualifier(custom) == "platform1"
    assert aws_module.bootstrap_qualifier(tmp_path / "missing.json") == "hnb659fds"
    # This repository's cdk.json sets none: the CDK default, as the stacks' synthesizer uses.
    assert aws_module.bootstrap_qualifier(Path(verify_deployment.REPO) / "cdk.json") == "hnb659fds"
