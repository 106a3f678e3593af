"""One sandbox at a time (the lock), and the fault command driving a running sandbox's control endpoint
(a fake sandbox here: the end-to-end tests drive the real one)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import AlreadyRunningError, ControlServer, SandboxLock, read_state
from sandbox.faults import FaultError

REPO = Path(__file__).resolve().parents[2]
USAGE = "usage: make fault FAULT=<name> [MS=<ms>] [POD=<workload or pod>] [NODE=<node>] [REPLICAS=<n>]"


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


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(process.stdout)


def test_a_stale_lock_whose_pid_is_gone_is_taken_over(tmp_path):
    # The lock still held (by something the dead sandbox started that kept the file open) ...
    held = (tmp_path / "sandbox.lock").open("a+")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    (tmp_path / "state.json").write_text(json.dumps({"pid": dead_pid(), "control": "http://127.0.0.1:1"}))
    try:
        with SandboxLock(tmp_path) as lock:  # ... but its sandbox's PID is gone: taken over
            assert read_state(lock.state_path) == {"pid": os.getpid()}
            with pytest.raises(AlreadyRunningError, match=rf"\(pid {os.getpid()}, still starting\)"):
                SandboxLock(tmp_path).acquire()  # and the new lock is obeyed
    finally:
        held.close()


def test_the_lock_of_a_killed_sandbox_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from sandbox.control import SandboxLock; "
         "lock = SandboxLock(); lock.acquire(); print('locked', flush=True); time.sleep(600)"],
        env=os.environ | {"SANDBOX_STATE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    with pytest.raises(AlreadyRunningError):
        SandboxLock(tmp_path).acquire()
    holder.kill()
    holder.wait()
    assert (tmp_path / "sandbox.lock").exists()  # left behind by the kill
    with SandboxLock(tmp_path):
        pass


def test_release_leaves_no_lock_file_and_no_state_directory_it_made(tmp_path):
    state_dir = tmp_path / "state"
    with SandboxLock(state_dir) as lock:
        assert lock.lock_path.exists()
    assert not state_dir.exists()
    with SandboxLock(tmp_path):
        (tmp_path / "other").write_text("not the lock's")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other"]  # a directory it did not make stays


def test_make_local_while_one_runs_says_so_and_starts_nothing(tmp_path):
    with SandboxLock(tmp_path) as first:
        first.write_state({"pid": os.getpid(), "control": "http://127.0.0.1:1234"})
        result = run("sandbox", "--no-view", state_dir=tmp_path)
    assert result.returncode == 1
    assert "already running" in result.stdout
    assert "synthesizing" not in result.stdout  # refused before any process or jsii starts


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


def make_fault(*assignments: str, state_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`make fault ...` as a user types it, in the repository (against the sandbox of `state_dir`)."""
    env = os.environ | ({"SANDBOX_STATE_DIR": str(state_dir)} if state_dir else {})
    return subprocess.run(
        ["make", "--no-print-directory", "fault", *assignments],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("assignments", "applied"),
    [
        (["FAULT=delete-pod"], ("delete-pod", {"pod": "orders-api"})),
        (["FAULT=delete-pod", "POD=prometheus-agent"], ("delete-pod", {"pod": "prometheus-agent"})),
        (["FAULT=drain-node", "NODE=kwok-node-a"], ("drain-node", {"node": "kwok-node-a"})),
        (["FAULT=uncordon-node", "NODE=kwok-node-b"], ("uncordon-node", {"node": "kwok-node-b"})),
        (["FAULT=scale", "REPLICAS=3"], ("scale", {"replicas": 3})),
        (["FAULT=drain-node"], ("drain-node", {})),  # the sandbox asks which node
        (["FAULT=add-latency", "MS=250", "NODE=kwok-node-a"], ("add-latency", {"ms": 250})),
    ],
)  # fmt: skip
def test_make_fault_passes_each_cluster_fault_its_own_parameter(control, tmp_path, assignments, applied):
    result = make_fault(*assignments, state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert control.applied == [applied]


def test_make_fault_alone_shows_the_usage_a_user_types_and_every_fault():
    result = make_fault()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == USAGE
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    assert listed == [
        "stop-postgres", "start-postgres", "add-latency", "remove-latency", "stop-amp", "start-amp",
        "restart-agent", "break-inventory", "fix-inventory", "delete-pod", "drain-node", "uncordon-node",
        "scale", "status",
    ]  # fmt: skip
    assert "MS: add-latency's delay per query message in ms (default 150)." in lines
    assert "POD: delete-pod's workload or pod (default orders-api)." in lines
    assert "REPLICAS: scale's count of orders API pods." in lines
    for internal in ("--ms", "-h", "FAULT= [", "positional arguments"):
        assert internal not in result.stdout, internal


def test_make_fault_with_an_unknown_name_shows_the_same_usage():
    result = make_fault("FAULT=unplug-the-cable")
    assert result.returncode != 0
    assert result.stderr.startswith(f"{USAGE}\n")
    assert "invalid choice: 'unplug-the-cable'" in result.stderr
