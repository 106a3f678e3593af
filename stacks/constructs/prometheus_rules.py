"""Prometheus rules files loaded into an AMP workspace: one `AWS::APS::RuleGroupsNamespace` per file.

AMP's limits are checked at synth, so a bad file fails `cdk synth`, not the deployment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_aps as aps
from constructs import Construct

from observability.model.quotas import load_quotas
from observability.render.rules import dump

# CloudFormation schema (cfn-lint 1.58.0): Name 1-64 characters; the namespace ARN's pattern allows these.
NAME = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")
# The limits and their sources: observability/spec/amp-quotas.yaml.
MAX_NAMESPACE_AND_GROUP_BYTES = int(load_quotas().namespace_and_group_name_bytes.value)
MAX_DATA_BYTES = int(load_quotas().rule_namespace_bytes.value)


class RuleFileError(ValueError):
    """A rules file AMP would refuse; the message names the namespace and the limit."""


def rules_data(namespace: str, document: Mapping[str, Any]) -> str:
    """The rules file as YAML, after checking AMP's limits on names and size."""
    problems = []
    if not NAME.match(namespace):
        problems.append(
            f"name must be 1-64 characters [0-9A-Za-z._-], starting alphanumeric (got {namespace!r})"
        )
    groups = document.get("groups")
    if not isinstance(groups, list) or not groups:
        problems.append("must be a Prometheus rules document with a non-empty `groups` list")
        groups = []
    names = [str(group.get("name", "")) for group in groups]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"group {name!r} appears more than once")
    for name in names:
        size = len(namespace.encode()) + len(name.encode())
        if not name or size > MAX_NAMESPACE_AND_GROUP_BYTES:
            problems.append(
                f"group name {name[:40]!r}: namespace + group name must be 1-{MAX_NAMESPACE_AND_GROUP_BYTES} "
                f"UTF-8 bytes (got {size})"
            )
    data = dump(document)
    if len(data.encode()) > MAX_DATA_BYTES:
        problems.append(f"rules file must be at most {MAX_DATA_BYTES} bytes (got {len(data.encode())})")
    if problems:
        raise RuleFileError("\n".join(f"rule groups namespace {namespace!r}: {p}" for p in problems))
    return data


class PrometheusRules(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, workspace_arn: str, files: Mapping[str, Mapping[str, Any]]
    ) -> None:
        super().__init__(scope, id_)
        # Name and Workspace are create-only: renaming a file replaces its namespace.
        self.namespaces = {
            namespace: aps.CfnRuleGroupsNamespace(
                self,
                _construct_id(namespace),
                workspace=workspace_arn,
                name=namespace,
                data=rules_data(namespace, document),
            )
            for namespace, document in sorted(files.items())
        }


def _construct_id(namespace: str) -> str:
    """`platform-alerts` → `PlatformAlerts`: the logical id follows the name."""
    return "".join(part.capitalize() for part in re.split(r"[-._]", namespace) if part)
