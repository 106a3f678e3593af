"""The end-to-end suite: one sandbox (sandbox/core.py, the code `make local` runs) per module, broken on
purpose; every measured time is printed and collected for the summary at the end of the run."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# jsii (cdk8s) runs `node` from PATH: make sure it is the venv's Node 24 even when pytest runs directly.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from harness.manifests import Manifests, synthesize
from sandbox.core import Sandbox

TIMINGS: dict[str, float] = {}
STARTED = time.monotonic()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: starts real processes on 127.0.0.1")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("end-to-end times (s)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<55} {seconds:7.0f}")
        terminalreporter.write_line(f"{'wall time of the e2e session':<55} {time.monotonic() - STARTED:7.0f}")


@pytest.fixture(scope="session")
def manifests() -> Manifests:
    return synthesize(agent_replicas=1)  # as `make local`: one agent, the receiver deduplicates no pair


@pytest.fixture(scope="module")
def sandbox(manifests: Manifests) -> Iterator[Sandbox]:
    workdir = Path(tempfile.mkdtemp(prefix="e2e-sandbox-"))
    with Sandbox(workdir, manifests) as running:
        yield running
    shutil.rmtree(workdir, ignore_errors=True)
