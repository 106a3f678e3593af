"""Shared helpers of the rules tier: the real promtool, of the cluster's Prometheus release."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.stack import PROMTOOL

# Debian's promtool (Prometheus 2.42, `make system-deps`): only for the platform alerts' cases, which run on
# both range conventions (test_platform_alerts.py says why).
DEBIAN_PROMTOOL = Path(os.environ.get("DEBIAN_PROMTOOL_BIN", "/usr/bin/promtool"))

Promtool = Callable[..., subprocess.CompletedProcess[str]]


def _runner(binary: Path) -> Promtool:
    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
        )

    return run


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """`promtool(*args)`: runs the cluster's release's promtool, returns the finished process (the caller
    checks returncode)."""
    if not PROMTOOL.exists():
        pytest.fail(f"{PROMTOOL} not found: run `make go-tools` (builds it from the Go module proxy)")
    return _runner(PROMTOOL)


@pytest.fixture(scope="session")
def debian_promtool() -> Promtool:
    """As `promtool`, with Debian's promtool 2.42 (range windows that include their start)."""
    if not DEBIAN_PROMTOOL.exists():
        pytest.fail(f"{DEBIAN_PROMTOOL} not found: run `make system-deps` (Debian package prometheus)")
    return _runner(DEBIAN_PROMTOOL)


def write_yaml(path: Path, document: Any) -> Path:
    """Writes `document` as YAML (keys in the order given) and returns `path`."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000))
    return path
