"""The committed stack outputs page (docs/reference/stack-outputs.md) is what scripts/docs_tables.py writes
from the dev stage's templates now: checked on this session's synth of dev, which is the one the script
makes."""

from __future__ import annotations

from scripts import docs_tables
from scripts.docs_reference import stack_outputs
from tests.unit.conftest import REPOSITORY, Synthesized


def test_the_committed_stack_outputs_page_is_what_the_script_writes(dev: Synthesized):
    assert dev.config.name == docs_tables.OUTPUTS_ENVIRONMENT
    page = stack_outputs.page_text(dev.config.name, stack_outputs.stage_templates(dev.stage))
    committed = (REPOSITORY / "docs" / "reference" / "stack-outputs.md").read_text(encoding="utf-8")
    assert committed == page, "docs/reference/stack-outputs.md is stale: run `make docs-tables`"


def test_the_outputs_page_lists_the_outputs_an_operator_reads(dev: Synthesized):
    page = stack_outputs.page_text(dev.config.name, stack_outputs.stage_templates(dev.stage))
    assert "| `GrafanaWorkspaceUrl` | Amazon Managed Grafana workspace: sign in here" in page
    # References between stacks are left out.
    assert "PublishOutput" not in page
    assert "ExportsOutput" not in page
