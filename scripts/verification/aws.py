"""The AWS clients of one verification run, as the verifier role when its ARN is known.

The verifier role trusts named principals only (stacks/constructs/deployment_verifier.py): the stage's CDK
deploy role, the environment's `verifier_principal_arns` and the pipeline's verify steps. When the caller is
none of them, the role is assumed through the CDK deploy role (whoever may deploy may verify)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

SESSION_NAME = "deployment-verification"
# `cdk bootstrap`'s default qualifier; cdk.json's context may set another (as the CDK CLI reads it).
DEFAULT_QUALIFIER = "hnb659fds"
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


class AssumeRoleError(Exception):
    """The verifier role could not be assumed, directly or through the CDK deploy role."""


BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=70)


@dataclass(frozen=True)
class Clients:
    amp: Any
    lambda_: Any
    cloudwatch: Any
    logs: Any
    credentials: Any  # botocore Credentials, for signing the AMP query API (not a boto3 service)
    region: str


def bootstrap_qualifier(cdk_json: Path) -> str:
    try:
        context = json.loads(cdk_json.read_text()).get("context", {})
    except (OSError, ValueError):
        return DEFAULT_QUALIFIER
    return str(context.get(QUALIFIER_CONTEXT, DEFAULT_QUALIFIER))


def deploy_role_arn(role_arn: str, region: str, qualifier: str) -> str:
    """The CDK bootstrap deploy role of the account that holds `role_arn`, in `region`."""
    partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
    return f"arn:{partition}:iam::{account}:role/cdk-{qualifier}-deploy-role-{account}-{region}"


def _assume(session: Any, role_arn: str, region: str) -> Any:
    sts = session.client("sts", region_name=region, config=BOTO_CONFIG)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _denied(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) == "AccessDenied"


def connect(
    *,
    region: str,
    role_arn: str | None,
    session: Any = None,
    qualifier: str = DEFAULT_QUALIFIER,
    notify: Callable[[str], None] = lambda _: None,
) -> Clients:
    """Clients from `session` (default: the ambient credentials), after assuming `role_arn` if given."""
    session = session or boto3.Session(region_name=region)
    if role_arn:
        try:
            session = _assume(session, role_arn, region)
        except ClientError as error:
            if not _denied(error):
                raise
            via = deploy_role_arn(role_arn, region, qualifier)
            try:
                session = _assume(_assume(session, via, region), role_arn, region)
            except ClientError as second:
                raise AssumeRoleError(
                    f"cannot assume the verifier role {role_arn}: it trusts the stage's CDK deploy role "
                    f"({via}), the environment's verifier_principal_arns and the pipeline's verify steps; "
                    f"add your role to verifier_principal_arns and deploy, or use credentials that may "
                    f"assume the deploy role ({second.response.get('Error', {}).get('Code')})"
                ) from None
            notify(f"Assumed the verifier role through the CDK deploy role {via}")
    return Clients(
        amp=session.client("amp", region_name=region, config=BOTO_CONFIG),
        lambda_=session.client("lambda", region_name=region, config=BOTO_CONFIG),
        cloudwatch=session.client("cloudwatch", region_name=region, config=BOTO_CONFIG),
        logs=session.client("logs", region_name=region, config=BOTO_CONFIG),
        credentials=session.get_credentials(),
        region=region,
    )
