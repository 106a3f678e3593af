"""The rendered artifacts, as plain files (`make render`), equal the golden copies in tests/golden: a change
to a rule, a route or a scrape job shows in review as a readable YAML diff. After an intended change:
`make golden-update`, and read the diff."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
GOLDEN = REPOSITORY / "tests/golden"


def test_rendered_artifacts_equal_the_golden_files(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts/render.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = {path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file()}
    golden = {path.relative_to(GOLDEN) for path in GOLDEN.rglob("*") if path.is_file()}
    assert rendered == golden, "run `make golden-update` to add or remove golden files"
    diffs: list[str] = []
    for relative in sorted(rendered):
        ours, theirs = (tmp_path / relative).read_text(), (GOLDEN / relative).read_text()
        if ours != theirs:
            diffs += difflib.unified_diff(
                theirs.splitlines(),
                ours.splitlines(),
                f"golden/{relative}",
                f"rendered/{relative}",
                lineterm="",
            )
    assert not diffs, "\n".join(diffs[:200])
