"""The AWS clients of one verification run, as the verifier role when its ARN is known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

SESSION_NAME = "deployment-verification"
BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=70)


@dataclass(frozen=True)
class Clients:
    amp: Any
    grafana: Any
    lambda_: Any
    cloudwatch: Any
    logs: Any
    credentials: Any  # botocore Credentials, for signing the AMP query API (not a boto3 service)
    region: str


def connect(*, region: str, role_arn: str | None, session: Any = None) -> Clients:
    """Clients from `session` (default: the ambient credentials), after assuming `role_arn` if given."""
    session = session or boto3.Session(region_name=region)
    if role_arn:
        sts = session.client("sts", region_name=region, config=BOTO_CONFIG)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    return Clients(
        amp=session.client("amp", region_name=region, config=BOTO_CONFIG),
        grafana=session.client("grafana", region_name=region, config=BOTO_CONFIG),
        lambda_=session.client("lambda", region_name=region, config=BOTO_CONFIG),
        cloudwatch=session.client("cloudwatch", region_name=region, config=BOTO_CONFIG),
        logs=session.client("logs", region_name=region, config=BOTO_CONFIG),
        credentials=session.get_credentials(),
        region=region,
    )
