"""Write the docs site's generated reference pages under docs/reference/ (`make docs-tables`): the alerts
and their runbooks, the recorded series, the scrape jobs, the dashboards and their panels, the
configuration's fields, and the stacks' outputs, each from the code the platform renders and deploys from.

`--check` writes nothing and exits 1 naming each page that differs from what would be written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

# Synth runs the CDK through jsii: the venv's Node 24 even outside `make`.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from observability.dashboards import folders  # noqa: E402
from observability.jobs import all_jobs  # noqa: E402
from observability.model.load import load  # noqa: E402
from observability.render.rules import rule_files  # noqa: E402
from scripts.docs_reference import (  # noqa: E402
    config_fields,
    dashboards,
    rules,
    scrape_jobs,
    stack_outputs,
)

REFERENCE = REPO / "docs" / "reference"
# The environment whose synthesized stacks give the outputs page.
OUTPUTS_ENVIRONMENT = "dev"


def code_pages() -> dict[str, str]:
    """The pages that need no synth: file name under docs/reference -> its text."""
    services = load()
    rule_documents = rule_files(services, runbook_base_url=rules.RUNBOOKS)
    return {
        "alerts.md": rules.alerts_page(rule_documents),
        "recorded-series.md": rules.recorded_series_page(rule_documents),
        "scrape-jobs.md": scrape_jobs.page_text(all_jobs(services)),
        "dashboards.md": dashboards.page_text(folders(services)),
        "config.md": config_fields.page_text(),
    }


def outputs_page() -> str:
    """The stack outputs page, from a synth of OUTPUTS_ENVIRONMENT into a temporary folder."""
    import aws_cdk as cdk

    from app import build
    from config import environment_config

    context = json.loads((REPO / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory(prefix="docs-tables-") as outdir:
        app = cdk.App(outdir=outdir, context=context)
        stage = build(app, environment_config(OUTPUTS_ENVIRONMENT))
        app.synth()
        return stack_outputs.page_text(OUTPUTS_ENVIRONMENT, stack_outputs.stage_templates(stage))


def stale(pages: dict[str, str], folder: Path) -> list[str]:
    """The pages whose file in `folder` is missing or differs from `pages`."""
    return [name for name, text in pages.items() if _read(folder / name) != text]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REFERENCE)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page is stale")
    args = parser.parse_args()
    pages = {**code_pages(), "stack-outputs.md": outputs_page()}
    if args.check:
        if names := stale(pages, args.out):
            print(f"stale generated pages in {args.out}: {', '.join(names)}: run `make docs-tables`")
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
