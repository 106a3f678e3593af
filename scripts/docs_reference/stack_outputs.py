"""The stacks' outputs, read from the synthesized templates of one environment (dev): what `make deploy`
writes to cdk.out/outputs-<env>.json for the operator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from scripts.docs_reference.markdown import code, page, table


def stage_templates(stage: cdk.Stage) -> dict[str, dict[str, Any]]:
    """The stage's top-level stacks' templates by construct id (`Network`, `Cluster`, ...), after synth."""
    assembly = stage.synth()
    return {
        stack.node.id: json.loads((Path(assembly.directory) / stack.template_file).read_text())
        for stack in stage.node.children
        if isinstance(stack, cdk.Stack)
    }


def page_text(environment: str, templates: Mapping[str, Mapping[str, Any]]) -> str:
    body = [
        f"The outputs of the {environment} environment's stacks, as `make deploy` writes them to "
        f"`cdk.out/outputs-{environment}.json`. Left out: outputs without a description, the references "
        "between stacks that the CDK adds (exported for `Fn::ImportValue`), not meant for operators.",
    ]
    for stack, template in templates.items():
        rows = [
            [code(name), output["Description"]]
            for name, output in template.get("Outputs", {}).items()
            if output.get("Description")
        ]
        if rows:
            body += [f"## {stack}", table(["output", "what it is"], rows)]
    return page(title="Stack outputs", source=f"the {environment} stage's synthesized templates", body=body)
