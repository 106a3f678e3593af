"""Shared helpers of the rules tier: the real promtool (Debian's Prometheus 2.42 by default)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

PROMTOOL = Path(os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool"))

Promtool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """`promtool(*args)`: runs promtool, returns the finished process (the caller checks returncode)."""
    if not PROMTOOL.exists():
        pytest.fail(f"{PROMTOOL} not found: run `make system-deps` (Debian package prometheus)")

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PROMTOOL), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
        )

    return run


def write_yaml(path: Path, document: Any) -> Path:
    """Writes `document` as YAML (keys in the order given) and returns `path`."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000))
    return path
