"""Prometheus rules files loaded into an AMP workspace: one `AWS::APS::RuleGroupsNamespace` per file.

AMP's limits are checked at synth, so a bad file fails `cdk synth`, not the deployment. Two limits of
the whole set are warnings, not errors: the workspace's rules (an adjustable AMP quota) and the rules
inlined in this stack's template (CloudFormation takes 1 MB; at about 35 services of two SLOs the
template is over it: README "Scale").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations
from aws_cdk import aws_aps as aps
from constructs import Construct

from observability.model.quotas import load_quotas
from observability.render.rules import dump, rule_count

# CloudFormation schema (cfn-lint 1.58.0): Name 1-64 characters; the namespace ARN's pattern allows these.
NAME = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")
# The limits and their sources: observability/spec/amp-quotas.yaml.
MAX_NAMESPACE_AND_GROUP_BYTES = int(load_quotas().namespace_and_group_name_bytes.value)
MAX_DATA_BYTES = int(load_quotas().rule_namespace_bytes.value)
RULES_PER_WORKSPACE = int(load_quotas().rules_per_workspace.value)
TEMPLATE_BYTES = int(load_quotas().template_bytes.value)
# The rest of the monitoring stack's template (workspace, Alertmanager, agent, roles) stays under this.
TEMPLATE_RESERVE_BYTES = 200_000
RULES_QUOTA_WARNING = "platform:rules-per-workspace"
TEMPLATE_SIZE_WARNING = "platform:rules-template-size"


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
        data = {namespace: rules_data(namespace, document) for namespace, document in sorted(files.items())}
        # Name and Workspace are create-only: renaming a file replaces its namespace.
        self.namespaces = {
            namespace: aps.CfnRuleGroupsNamespace(
                self, _construct_id(namespace), workspace=workspace_arn, name=namespace, data=text
            )
            for namespace, text in data.items()
        }
        rules = sum(rule_count(document) for document in files.values())
        if rules > RULES_PER_WORKSPACE:
            Annotations.of(self).add_warning_v2(
                RULES_QUOTA_WARNING,
                f"{rules:,} rules, over the {RULES_PER_WORKSPACE:,} rules per workspace planned in "
                "observability/spec/amp-quotas.yaml: raise the AMP quota L-3D15CDB4 before deploying",
            )
        # As the template holds them: JSON strings, newlines and quotes escaped.
        inlined = sum(len(json.dumps(text)) for text in data.values())
        if inlined > TEMPLATE_BYTES - TEMPLATE_RESERVE_BYTES:
            Annotations.of(self).add_warning_v2(
                TEMPLATE_SIZE_WARNING,
                f"the rules files take {inlined:,} bytes of this stack's template; CloudFormation refuses "
                f"templates over {TEMPLATE_BYTES:,} bytes: the deployment will fail (README: Scale)",
            )


def _construct_id(namespace: str) -> str:
    """`platform-alerts` → `PlatformAlerts`: the logical id follows the name."""
    return "".join(part.capitalize() for part in re.split(r"[-._]", namespace) if part)
