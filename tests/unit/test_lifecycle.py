"""A script killed with SIGTERM (by `kill`, a CI timeout) stops what its `with` blocks started.

`harness.lifecycle.unwind_on_sigterm` is what `make scale`, `make cost` and the sandbox call first: without
it Python ends at once on SIGTERM and leaves the cluster's and agents' processes running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A script that starts a child process inside a StartStop part (as the harness starts etcd or an agent),
# prints the child's PID and waits for good.
SCRIPT = textwrap.dedent(
    """
    import subprocess, sys, time
    from harness.lifecycle import StartStop, unwind_on_sigterm

    class Child(StartStop):
        def start(self):
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(600)"], stdout=subprocess.DEVNULL
            )
        def stop(self):
            self.proc.terminate()
            self.proc.wait()
            print("stopped", flush=True)

    if sys.argv[1] == "unwind":
        unwind_on_sigterm()
    with Child() as child:
        print(child.proc.pid, flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _run_and_terminate(mode: str) -> tuple[int, str, int]:
    """Starts the script, sends SIGTERM once the child runs; returns the child's PID, what the script printed
    after that, and its exit status."""
    script = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert script.stdout is not None
    child = int(script.stdout.readline())
    script.send_signal(signal.SIGTERM)
    rest = script.stdout.read()
    return child, rest, script.wait(timeout=60)


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 30  # generous: a deadline to wait on, not a timing
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_sigterm_unwinds_the_with_blocks_and_stops_the_children() -> None:
    child, rest, status = _run_and_terminate("unwind")
    assert "stopped" in rest
    assert status != 0  # KeyboardInterrupt ends it with an error, not as a clean run
    assert _wait_gone(child)


def test_without_it_sigterm_leaves_the_child_running() -> None:
    """The control case: Python's default SIGTERM ends the script at once, its part's `stop` never runs."""
    child, rest, status = _run_and_terminate("default")
    try:
        assert rest == ""
        assert status == -signal.SIGTERM
        assert _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)  # the process this test started, left running by design
