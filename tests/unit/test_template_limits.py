"""CloudFormation refuses a template over 1,000,000 bytes (uploaded to S3, as the CDK does): `cdk synth`
fails first, naming the template, whether it is a stack's or a nested stack's."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Validations

from stacks.template_limits import TemplateLimits

# CloudFormation's documented limit for a template in S3, in bytes.
LIMIT = 1_000_000


def app_with(tmp_path: Path, *, parent_bytes: int, nested_bytes: int) -> cdk.App:
    app = cdk.App(outdir=str(tmp_path))
    Validations.of(app).add_plugins(TemplateLimits())
    stack = cdk.Stack(app, "Big")
    cdk.CfnResource(stack, "Blob", type="AWS::SSM::Parameter", properties={"Value": "x" * parent_bytes})
    nested = cdk.NestedStack(stack, "Inner")
    cdk.CfnResource(nested, "Blob", type="AWS::SSM::Parameter", properties={"Value": "y" * nested_bytes})
    return app


def test_templates_under_the_limit_pass(tmp_path: Path) -> None:
    app_with(tmp_path, parent_bytes=990_000, nested_bytes=990_000).synth()
    sizes = [p.stat().st_size for p in tmp_path.glob("*.template.json")]
    assert len(sizes) == 2
    assert max(sizes) < LIMIT


@pytest.mark.parametrize(("parent", "nested", "named"), [(1_000_100, 10, "Big"), (10, 1_000_100, "BigInner")])
def test_a_template_over_the_limit_fails_the_synth_naming_it(
    tmp_path: Path, parent: int, nested: int, named: str
) -> None:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app_with(tmp_path, parent_bytes=parent, nested_bytes=nested).synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "TemplateLimits"]
    (violation,) = plugin["violations"]
    assert violation["ruleName"] == "platform-template-size"
    assert violation["description"].startswith(named)
    assert "over the 1,000,000 bytes CloudFormation accepts" in violation["description"]
