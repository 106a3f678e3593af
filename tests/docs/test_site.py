"""The docs site builds strictly: the real one passes, and a copy broken in each way strict mode must catch
(a link to a missing page, a bad anchor, a nav entry without its page, a page left out of the nav) fails
with MkDocs' message naming the fault."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).with_name("mkdocs")


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of `root`'s mkdocs.yml into `site`, as `make docs` runs it."""
    return subprocess.run(
        [
            str(MKDOCS),
            "build",
            "--strict",
            "--config-file",
            str(root / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_docs(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPOSITORY / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPOSITORY / "docs", root / "docs")
    return root


def test_the_real_docs_build_strictly(tmp_path: Path):
    result = build(REPOSITORY, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    # Pages from the nav and a runbook (reached only from the alerts table) are all built.
    for page in ("index.html", "reference/alerts.html", "runbooks/TargetDown.html"):
        assert (tmp_path / "site" / page).is_file(), page


def test_a_generated_alerts_table_links_its_runbooks(tmp_path: Path):
    assert build(REPOSITORY, tmp_path / "site").returncode == 0
    alerts = (tmp_path / "site" / "reference" / "alerts.html").read_text()
    assert 'href="../runbooks/TargetDown.html"' in alerts


BROKEN_LINKS = {
    "a link to a missing page": (
        "[gone](no-such-page.md)",
        "Doc file 'index.md' contains a link 'no-such-page.md', but the target is not found among "
        "documentation files.",
    ),
    "a link to a missing heading of another page": (
        "[gone](cost.md#no-such-heading)",
        "Doc file 'index.md' contains a link 'cost.md#no-such-heading', but the doc 'cost.md' does not "
        "contain an anchor '#no-such-heading'.",
    ),
    "a link to a missing heading of the same page": (
        "[gone](#no-such-heading)",
        "Doc file 'index.md' contains a link '#no-such-heading', but there is no such anchor on this page.",
    ),
    "a link to a folder outside the docs": (
        "[code](../observability/)",
        "Doc file 'index.md' contains an unrecognized relative link '../observability/', it was left as is.",
    ),
}


@pytest.mark.parametrize(("link", "message"), BROKEN_LINKS.values(), ids=BROKEN_LINKS.keys())
def test_a_broken_link_fails_the_build(tmp_path: Path, link: str, message: str):
    root = copy_of_docs(tmp_path)
    index = root / "docs" / "index.md"
    index.write_text(index.read_text() + f"\nSee {link}.\n")
    result = build(root, tmp_path / "site")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Aborted with 1 warnings in strict mode!" in result.stdout + result.stderr


def test_a_nav_entry_without_its_page_fails_the_build(tmp_path: Path):
    root = copy_of_docs(tmp_path)
    (root / "docs" / "cost.md").unlink()
    result = build(root, tmp_path / "site")
    assert result.returncode == 1
    missing = "A reference to 'cost.md' is included in the 'nav' configuration, which is not found"
    assert missing in result.stderr


def test_a_page_left_out_of_the_nav_fails_the_build(tmp_path: Path):
    root = copy_of_docs(tmp_path)
    (root / "docs" / "orphan.md").write_text("# Orphan\n")
    result = build(root, tmp_path / "site")
    assert result.returncode == 1
    assert (
        'The following pages exist in the docs directory, but are not included in the "nav" configuration:\n'
        "  - orphan.md\n"
    ) in result.stderr
