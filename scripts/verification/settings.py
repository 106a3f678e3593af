"""What the verification reads: the stage's stack outputs, from VERIFY_* environment variables (the
pipeline's `env_from_cfn_outputs`) or from the file `make deploy` writes (`cdk.out/outputs-<env>.json`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stacks import verification_outputs as outputs
from stacks.naming import construct_id

# https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/query
_AMP_REGION = re.compile(r"aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com")


class SettingsError(Exception):
    """The outputs are missing or unreadable: one line saying which and where."""


@dataclass(frozen=True)
class Settings:
    prometheus_workspace_id: str
    prometheus_query_url: str
    grafana_health_check_arn: str
    role_arn: str
    probe_function_arn: str
    region: str
    watchdog_topic_arn: str
    page_topic_arn: str
    ticket_topic_arn: str
    prometheus_log_group: str


def from_environment(env: Mapping[str, str]) -> Settings | None:
    """The settings when every VERIFY_* variable is set, None when none is."""
    present = {o.env_var: env[o.env_var] for o in outputs.ALL if env.get(o.env_var)}
    if not present:
        return None
    missing = [o.env_var for o in outputs.ALL if o.env_var not in present]
    if missing:
        raise SettingsError(f"environment: missing {', '.join(missing)}")
    return _settings(present, env)


def from_outputs_file(path: Path, env_name: str, env: Mapping[str, str]) -> Settings:
    """The settings from `cdk deploy --outputs-file`: `{"Dev-Monitoring": {"PrometheusWorkspaceId": ...}}`."""
    try:
        stacks = json.loads(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"{path}: not found; run `make deploy ENV={env_name}` first") from None
    except ValueError as error:
        raise SettingsError(f"{path}: not JSON ({error})") from None
    stage = construct_id(env_name)
    values, missing = {}, []
    for output in outputs.ALL:
        stack = outputs.stack_name(stage, output.stack_id)
        value = stacks.get(stack, {}).get(output.output_id)
        if value:
            values[output.env_var] = str(value)
        else:
            missing.append(f"{stack}.{output.output_id}")
    if missing:
        raise SettingsError(f"{path}: missing {', '.join(missing)}")
    return _settings(values, env)


def _settings(values: Mapping[str, str], env: Mapping[str, str]) -> Settings:
    query_url = values[outputs.PROMETHEUS_QUERY_URL.env_var]
    found = _AMP_REGION.search(query_url)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or (found.group(1) if found else "")
    if not region:
        raise SettingsError("region: set AWS_REGION")
    return Settings(
        prometheus_workspace_id=values[outputs.PROMETHEUS_WORKSPACE_ID.env_var],
        prometheus_query_url=query_url,
        grafana_health_check_arn=values[outputs.GRAFANA_HEALTH_CHECK_ARN.env_var],
        role_arn=values[outputs.ROLE_ARN.env_var],
        probe_function_arn=values[outputs.PROBE_FUNCTION_ARN.env_var],
        region=region,
        watchdog_topic_arn=values[outputs.WATCHDOG_TOPIC_ARN.env_var],
        page_topic_arn=values[outputs.PAGE_TOPIC_ARN.env_var],
        ticket_topic_arn=values[outputs.TICKET_TOPIC_ARN.env_var],
        prometheus_log_group=values[outputs.PROMETHEUS_LOG_GROUP.env_var],
    )
