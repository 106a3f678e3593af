"""One sandbox at a time (the lock), and the fault command driving a running sandbox's control endpoint
(a fake sandbox here: the end-to-end tests drive the real one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import AlreadyRunningError, ControlServer, SandboxLock, read_state
from sandbox.faults import FaultError

REPO = Path(__file__).resolve().parents[2]


class FakeSandbox:
    def __init__(self) -> None:
        self.applied: list[tuple[str, dict[str, Any]]] = []

    def apply(self, name: str, params: dict[str, Any] | None = None) -> str:
        if name == "start-postgres":
            raise FaultError("Postgres is already running")
        self.applied.append((name, dict(params or {})))
        return f"applied {name}"

    def status(self) -> dict[str, Any]:
        return {"faults": {}, "applied": len(self.applied)}


def run(module: str, *args: str, state_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SANDBOX_STATE_DIR": str(state_dir), "PYTHONPATH": f"{REPO}:{REPO / 'webapp'}"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )


def test_a_second_lock_is_refused_and_says_where_the_first_runs(tmp_path):
    with SandboxLock(tmp_path) as first:
        first.write_state({"pid": os.getpid(), "control": "http://127.0.0.1:1234"})
        with pytest.raises(
            AlreadyRunningError,
            match=rf"already running \(pid {os.getpid()}, control http://127.0.0.1:1234\)",
        ):
            SandboxLock(tmp_path).acquire()
    assert read_state(tmp_path / "state.json") is None  # released: the state goes with it
    with SandboxLock(tmp_path):
        pass


def test_make_local_while_one_runs_says_so_and_starts_nothing(tmp_path):
    with SandboxLock(tmp_path) as first:
        first.write_state({"pid": os.getpid(), "control": "http://127.0.0.1:1234"})
        start = time.monotonic()
        result = run("sandbox", "--no-view", state_dir=tmp_path)
    assert result.returncode == 1
    assert "already running" in result.stdout
    assert "synthesizing" not in result.stdout
    assert time.monotonic() - start < 30  # refused before any process or jsii starts


@pytest.fixture
def control(tmp_path):
    fake = FakeSandbox()
    with ControlServer(fake, errors=(FaultError, ValueError)) as server, SandboxLock(tmp_path) as lock:
        lock.write_state({"pid": os.getpid(), "control": server.url})
        yield fake


def test_the_fault_command_applies_a_fault_to_the_running_sandbox(control, tmp_path):
    result = run("sandbox.fault", "add-latency", "--ms", "250", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "applied add-latency"
    assert control.applied == [("add-latency", {"ms": 250})]
    result = run("sandbox.fault", "stop-amp", state_dir=tmp_path)
    assert control.applied[-1] == ("stop-amp", {})


def test_a_fault_that_cannot_apply_fails_with_the_sandboxs_reason(control, tmp_path):
    result = run("sandbox.fault", "start-postgres", state_dir=tmp_path)
    assert result.returncode == 1
    assert "error: Postgres is already running" in result.stderr


def test_status_reports_what_the_sandbox_says(control, tmp_path):
    result = run("sandbox.fault", "status", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"faults": {}, "applied": 0}


def test_an_unknown_fault_is_refused_before_reaching_the_sandbox(control, tmp_path):
    result = run("sandbox.fault", "unplug-the-cable", state_dir=tmp_path)
    assert result.returncode == 2
    assert "stop-postgres" in result.stderr
    assert control.applied == []


def test_without_a_running_sandbox_the_fault_command_says_so(tmp_path):
    result = run("sandbox.fault", "stop-postgres", state_dir=tmp_path)
    assert result.returncode == 1
    assert "no sandbox is running" in result.stderr
