"""The command line: where the outputs come from, the verifier role, exit codes and output."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from scripts import verify_deployment
from scripts.verification import aws as aws_module
from scripts.verification.settings import SettingsError, from_environment, from_outputs_file
from stacks import verification_outputs
from tests.verification.fakes import ROLE_ARN, TOKEN, Aws, FakeServer, probe_answer
from tests.verification.test_checks import all_up, healthy_control_planes

QUERY_URL = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/query"
VALUES = {
    "VERIFY_PROMETHEUS_WORKSPACE_ID": "ws-1",
    "VERIFY_PROMETHEUS_QUERY_URL": QUERY_URL,
    "VERIFY_GRAFANA_WORKSPACE_ID": "g-0123456789",
    "VERIFY_GRAFANA_URL": "https://g-0123456789.grafana-workspace.eu-west-1.amazonaws.com",
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
        "VERIFY_GRAFANA_WORKSPACE_ID": settings.grafana_workspace_id,
        "VERIFY_GRAFANA_URL": settings.grafana_url,
        "VERIFY_ROLE_ARN": settings.role_arn,
        "VERIFY_PROBE_FUNCTION_ARN": settings.probe_function_arn,
        "VERIFY_WATCHDOG_TOPIC_ARN": settings.watchdog_topic_arn,
        "VERIFY_PAGE_TOPIC_ARN": settings.page_topic_arn,
        "VERIFY_TICKET_TOPIC_ARN": settings.ticket_topic_arn,
        "VERIFY_PROMETHEUS_LOG_GROUP": settings.prometheus_log_group,
    }
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    connected: list[tuple[str, str | None]] = []

    def connect(*, region: str, role_arn: str | None) -> Any:
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
    assert out.count("PASS  ") == 8
    assert "PASS  Watchdog notification reached its SNS topic: 1 published to " in out
    assert out.rstrip().endswith("8/9 checks passed: FAILED")
    assert TOKEN not in out


def test_main_without_outputs_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in VALUES:
        monkeypatch.delenv(name, raising=False)

    code = verify_deployment.main(["--env", "dev", "--outputs-file", str(tmp_path / "none.json")])

    assert code == 2
    assert "run `make deploy ENV=dev` first" in capsys.readouterr().err
