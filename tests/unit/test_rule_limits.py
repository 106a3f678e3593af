"""The rules construct at scale: one AMP rule groups namespace per rendered file, each in a nested stack of
its own, so no template nears CloudFormation's 1 MB at any number of services; `cdk synth` warns (not
fails) when the workspace's rules pass AMP's planned rules-per-workspace quota."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_aps as aps
from aws_cdk.assertions import Annotations, Match, Template

from harness.services import generate
from observability.model.load import load
from observability.render.rules import rule_files
from stacks.constructs.prometheus_rules import PrometheusRules

# CloudFormation's limit for a template uploaded to S3 (as the CDK does), in bytes.
CLOUDFORMATION_TEMPLATE_LIMIT = 1_000_000


def synth(tmp_path: Path, count: int) -> tuple[cdk.Stack, PrometheusRules, Path]:
    files = rule_files(
        load(generate(tmp_path / "services", count)), runbook_base_url="https://r.example.com/"
    )
    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Rules")
    rules = PrometheusRules(stack, "Rules", workspace=aps.CfnWorkspace(stack, "Workspace"), files=files)
    app.synth()
    return stack, rules, outdir


def test_one_namespace_per_team_in_its_own_nested_stack_and_no_warning_at_ten_services(
    tmp_path: Path,
) -> None:
    stack, rules, _ = synth(tmp_path, 10)
    assert sorted(rules.stacks) == ["platform-alerts", *(f"slos-team-{i:03}" for i in range(10))]
    parent = Template.from_stack(stack)
    parent.resource_count_is("AWS::APS::RuleGroupsNamespace", 0)
    parent.resource_count_is("AWS::CloudFormation::Stack", 11)
    nested = Template.from_stack(rules.stacks["slos-team-009"])
    nested.resource_count_is("AWS::APS::RuleGroupsNamespace", 1)
    nested.has_resource_properties(
        "AWS::APS::RuleGroupsNamespace",
        {"Name": "slos-team-009", "Data": Match.string_like_regexp("slo-svc-009-")},
    )
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []


def test_a_namespace_keeps_its_nested_stack_when_services_are_added(tmp_path: Path) -> None:
    """A namespace's nested stack (and so its CloudFormation logical id) follows its name only: adding
    services never moves one (that would create its create-only Name twice)."""
    _, ten, _ = synth(tmp_path / "ten", 10)
    _, eleven, _ = synth(tmp_path / "eleven", 11)
    for namespace, nested in ten.stacks.items():
        assert eleven.stacks[namespace].node.path == nested.node.path


def test_a_hundred_services_fit_every_template_and_warn_of_the_workspace_rules_quota(tmp_path: Path) -> None:
    stack, rules, outdir = synth(tmp_path, 100)
    assert len(rules.stacks) == 101
    templates = sorted(outdir.glob("*.template.json"))
    assert len(templates) == 102  # the parent and one nested stack per namespace
    sizes = {path.name: len(path.read_bytes()) for path in templates}
    assert max(sizes.values()) < CLOUDFORMATION_TEMPLATE_LIMIT / 10, sizes
    parent = json.loads((outdir / "Rules.template.json").read_text())
    assert sum(r["Type"] == "AWS::CloudFormation::Stack" for r in parent["Resources"].values()) == 101
    warnings = [str(w.entry.data) for w in Annotations.from_stack(stack).find_warning("*", Match.any_value())]
    assert len(warnings) == 1, warnings
    assert (
        " rules, over the 2,000 rules per workspace planned in observability/spec/amp-quotas.yaml: "
        "raise the AMP quota L-3D15CDB4 before deploying"
    ) in warnings[0]
