"""A synth-time check of CloudFormation's template size: a template over the limit fails `cdk synth` with
one line per template, instead of the deployment, which would fail only after it started.

The monitoring stack grows with the teams and services (their Alertmanager routes, scrape jobs and nested
stacks: docs/architecture/scale.md), and CloudFormation refuses a template over 1 MB when it is uploaded to
S3, as the CDK does. Its 500 resources per stack the CDK checks itself."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import jsii

from observability.model.quotas import load_quotas

RULE = "platform-template-size"
TEMPLATE_BYTES = int(load_quotas().template_bytes.value)


@jsii.implements(cdk.IPolicyValidationPlugin)
class TemplateLimits:
    @property
    def name(self) -> str:
        return "TemplateLimits"

    @property
    def rule_ids(self) -> list[str]:
        return [RULE]

    @property
    def version(self) -> str:
        return "1"

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        # Each stack's template and its nested stacks' (written beside it as `*.nested.template.json`).
        paths = {Path(path) for path in context.template_paths}
        paths |= {nested for path in list(paths) for nested in path.parent.glob("*.nested.template.json")}
        violations = [
            cdk.PolicyViolation(
                rule_name=RULE,
                description=(
                    f"{path.name}: {size:,} bytes, over the {TEMPLATE_BYTES:,} bytes CloudFormation accepts "
                    "(observability/spec/amp-quotas.yaml: template_bytes)"
                ),
                fix=(
                    "Fewer teams or services per environment, or split them over environments "
                    "(docs/architecture/scale.md)"
                ),
                violating_resources=[cdk.PolicyViolatingResource(locations=[], template_path=str(path))],
            )
            for path in sorted(paths)
            if (size := path.stat().st_size) > TEMPLATE_BYTES
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)
