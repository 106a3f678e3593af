"""Prometheus rules files loaded into an AMP workspace: one `AWS::APS::RuleGroupsNamespace` per file, each
in a nested stack of its own.

A namespace's rules file is inlined in a template (`Data` is a string; CloudFormation has no S3 form for
it), and CloudFormation refuses templates over 1 MB: inlined in one stack, the rules of about 35 services
would not deploy. In a nested stack each template holds one namespace (at most `rule_namespace_bytes`,
256 KiB), so the parent grows by one `AWS::CloudFormation::Stack` per namespace, not by its rules. The
nested stack's construct id comes from the namespace's name: a namespace never moves between stacks (a
move would create the same create-only `Name` in the new stack before deleting it from the old one).

AMP's limits are checked at synth, so a bad file fails `cdk synth`, not the deployment. The workspace's
rules (an adjustable AMP quota) are a warning, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations, NestedStack, Stack, Token
from aws_cdk import aws_aps as aps
from aws_cdk import aws_iam as iam
from constructs import Construct

from observability.model.quotas import load_quotas
from observability.render.rules import dump, rule_count
from stacks.nag import acknowledge
from stacks.naming import construct_id

# CloudFormation schema (cfn-lint 1.58.0): Name 1-64 characters; the namespace ARN's pattern allows these.
NAME = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")
# The limits and their sources: observability/spec/amp-quotas.yaml.
MAX_NAMESPACE_AND_GROUP_BYTES = int(load_quotas().namespace_and_group_name_bytes.value)
MAX_DATA_BYTES = int(load_quotas().rule_namespace_bytes.value)
RULES_PER_WORKSPACE = int(load_quotas().rules_per_workspace.value)
TEMPLATE_BYTES = int(load_quotas().template_bytes.value)
# What a nested stack's template holds besides the rules file: the resource, the workspace parameter.
NESTED_TEMPLATE_RESERVE_BYTES = 10_000
# In the template the rules file is a JSON string: escaping at most doubles it (quotes, backslashes and
# newlines; PyYAML already writes other control characters as escapes), so any file AMP takes fits.
if 2 * MAX_DATA_BYTES + NESTED_TEMPLATE_RESERVE_BYTES > TEMPLATE_BYTES:
    raise ValueError(
        "observability/spec/amp-quotas.yaml: rule_namespace_bytes: a rules file this big may not fit its "
        f"nested stack's template (at most {(TEMPLATE_BYTES - NESTED_TEMPLATE_RESERVE_BYTES) // 2:,} bytes)"
    )
RULES_QUOTA_WARNING = "platform:rules-per-workspace"


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
        self,
        scope: Construct,
        id_: str,
        *,
        workspace: aps.CfnWorkspace,
        files: Mapping[str, Mapping[str, Any]],
    ) -> None:
        super().__init__(scope, id_)
        data = {namespace: rules_data(namespace, document) for namespace, document in sorted(files.items())}
        # One nested stack per namespace, its id from the name. Name and Workspace are create-only:
        # renaming a file replaces its namespace (and its nested stack).
        self.stacks: dict[str, NestedStack] = {}
        self.namespaces: dict[str, aps.CfnRuleGroupsNamespace] = {}
        for namespace, text in data.items():
            nested = NestedStack(
                self, construct_id(namespace), description=f"AMP rule groups namespace {namespace}"
            )
            self.stacks[namespace] = nested
            self.namespaces[namespace] = aps.CfnRuleGroupsNamespace(
                nested, "Namespace", workspace=workspace.attr_arn, name=namespace, data=text
            )
        rules = sum(rule_count(document) for document in files.values())
        if rules > RULES_PER_WORKSPACE:
            Annotations.of(self).add_warning_v2(
                RULES_QUOTA_WARNING,
                f"{rules:,} rules, over the {RULES_PER_WORKSPACE:,} rules per workspace planned in "
                "observability/spec/amp-quotas.yaml: raise the AMP quota L-3D15CDB4 before deploying",
            )
        # Reading them (the verifier): every namespace of this workspace, whatever its name
        # (arn:...:rulegroupsnamespace/<workspace id>/<name>). One ARN per namespace would pass IAM's
        # policy size limit at about 100 namespaces and put one cross-stack reference per namespace.
        stack = Stack.of(self)
        self.read_policy = iam.ManagedPolicy(
            self,
            "ReadPolicy",
            description="Describe this workspace's rule groups namespaces (post-deploy verification)",
            statements=[
                iam.PolicyStatement(
                    sid="ReadRuleGroupsNamespaces",
                    actions=["aps:DescribeRuleGroupsNamespace"],
                    resources=[
                        stack.format_arn(
                            service="aps",
                            resource="rulegroupsnamespace",
                            resource_name=f"{workspace.attr_workspace_id}/*",
                        )
                    ],
                )
            ],
        )
        # The ARN as cdk-nag prints it: pseudo parameters and attributes in <>, known values as they are.
        partition, region, account = (
            f"<{pseudo}>" if Token.is_unresolved(value) else value
            for pseudo, value in (
                ("AWS::Partition", stack.partition),
                ("AWS::Region", stack.region),
                ("AWS::AccountId", stack.account),
            )
        )
        workspace_id = f"<{stack.get_logical_id(workspace)}.WorkspaceId>"
        acknowledge(
            self.read_policy,
            f"IAM5[Resource::arn:{partition}:aps:{region}:{account}:rulegroupsnamespace/{workspace_id}/*]",
            "Describe only, on this workspace's rule groups namespaces (one or more per team: their number "
            "grows with the services)",
        )
