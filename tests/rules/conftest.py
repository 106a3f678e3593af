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
# Prometheus 3's promtool, built by `make go-tools` (scripts/go-tools.sh): for kubernetes-mixin's cases.
PROMTOOL3 = Path(
    os.environ.get("PROMTOOL3_BIN", str(Path(__file__).resolve().parents[2] / ".venv/bin/promtool3"))
)

Promtool = Callable[..., subprocess.CompletedProcess[str]]


def _runner(binary: Path) -> Promtool:
    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
        )

    return run


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """`promtool(*args)`: runs promtool, returns the finished process (the caller checks returncode)."""
    if not PROMTOOL.exists():
        pytest.fail(f"{PROMTOOL} not found: run `make system-deps` (Debian package prometheus)")
    return _runner(PROMTOOL)


@pytest.fixture(scope="session")
def promtool3() -> Promtool:
    """As `promtool`, with Prometheus 3's promtool (range windows that exclude their start)."""
    if not PROMTOOL3.exists():
        pytest.fail(f"{PROMTOOL3} not found: run `make go-tools` (builds it from the Go module proxy)")
    return _runner(PROMTOOL3)


def write_yaml(path: Path, document: Any) -> Path:
    """Writes `document` as YAML (keys in the order given) and returns `path`."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000))
    return path
