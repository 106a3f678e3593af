"""The test runner as `make test` drives it: `pytest -n 2 --dist loadgroup` keeps a group's tests on one
worker, which the suites rely on to set up their session fixtures once (tests/unit's CDK synth, the webapp's
Postgres, the learn path's sandbox). pytest 9.2 broke this silently with pytest-xdist 3.8.0
(pytest-dev/pytest-xdist#1386): requirements-dev.txt pins the pytest that keeps it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GROUPED = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.fixture(scope="module")
def shared():
    with open("setups.log", "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")


@pytest.mark.parametrize("case", ["one", "two", "three", "four", "five", "six"])
def test_grouped(case, shared):
    with open("grouped.log", "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
"""
FREE = """
import time
import pytest


@pytest.mark.parametrize("case", range(30))
def test_free(case):
    time.sleep(0.02)
"""


def test_a_group_runs_on_one_worker_and_sets_its_fixture_up_once(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_free.py").write_text(FREE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "test_grouped.py", "test_free.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "36 passed" in result.stdout
    workers = (tmp_path / "grouped.log").read_text().split()
    assert len(workers) == 6
    assert len(set(workers)) == 1, workers
    assert (tmp_path / "setups.log").read_text().split() == workers[:1]
