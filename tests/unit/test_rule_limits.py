"""The rules construct at scale: one AMP rule groups namespace per rendered file, and `cdk synth` warns
(not fails) when the workspace's rules pass AMP's planned rules-per-workspace quota or the inlined rules
would push the stack's template over CloudFormation's 1 MB."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from harness.services import generate
from observability.model.load import load
from observability.render.rules import rule_files
from stacks.constructs.prometheus_rules import PrometheusRules

WORKSPACE_ARN = "arn:aws:aps:us-east-1:123456789012:workspace/ws-0123456789abcdef"


def synth(tmp_path: Path, count: int) -> tuple[cdk.Stack, dict[str, dict]]:
    files = rule_files(
        load(generate(tmp_path / "services", count)), runbook_base_url="https://r.example.com/"
    )
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "cdk.out")), "Rules")
    PrometheusRules(stack, "Rules", workspace_arn=WORKSPACE_ARN, files=files)
    return stack, files


def test_one_namespace_per_team_and_no_warning_at_ten_services(tmp_path: Path) -> None:
    stack, _ = synth(tmp_path, 10)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::APS::RuleGroupsNamespace", 11)
    template.has_resource_properties(
        "AWS::APS::RuleGroupsNamespace",
        {
            "Name": "slos-team-009",
            "Workspace": WORKSPACE_ARN,
            "Data": Match.string_like_regexp("slo-svc-009-"),
        },
    )
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []


@pytest.mark.parametrize(
    "expected",
    [
        " rules, over the 2,000 rules per workspace planned in observability/spec/amp-quotas.yaml: "
        "raise the AMP quota L-3D15CDB4 before deploying",
        "CloudFormation refuses templates over 1,000,000 bytes: the deployment will fail",
    ],
)
def test_a_hundred_services_warn_of_the_workspace_and_template_limits(tmp_path: Path, expected: str) -> None:
    stack, _ = synth(tmp_path, 100)
    warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    assert any(expected in str(warning.entry.data) for warning in warnings), [w.entry.data for w in warnings]
