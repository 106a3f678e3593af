"""`make local` as a user meets it: the links it prints answer, its output in a terminal and in a pipe,
and Ctrl-C (SIGINT to the terminal's foreground process group) stops it quietly leaving nothing behind."""

from __future__ import annotations

import codecs
import io
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import httpx
import pytest
from rich.console import Console

from harness.manifests import synthesize
from harness.stack import wait_until
from observability import names
from sandbox import __main__ as local
from sandbox import view
from sandbox.core import Sandbox

REPO = Path(__file__).resolve().parents[2]
# jsii (cdk8s) runs `node` from PATH: the venv's Node 24, even when pytest runs directly.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
NOW = 1_800_000_000.0


def snapshots() -> Iterator[view.Snapshot]:
    """A sandbox that pages, then resolves."""

    def note(at: float, status: str) -> dict[str, Any]:
        labels = {"alertname": "OrdersApiAvailabilityBudgetBurn", "long_window": "1h"}
        alerts = [{"status": status, "labels": labels}]
        return {"receiver": "page", "received_at": at, "payload": {"status": status, "alerts": alerts}}

    firing, resolved = note(NOW + 5, "firing"), note(NOW + 10, "resolved")
    yield view.Snapshot(at=NOW, request_rate=10.0, history_seconds=60)
    yield view.Snapshot(at=NOW + 5, request_rate=10.0, notifications=(firing,), history_seconds=65)
    yield view.Snapshot(at=NOW + 10, request_rate=10.0, notifications=(firing, resolved), history_seconds=70)


def watch(console: Console) -> None:
    taken = snapshots()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        local.watch(console, lambda: next(taken), sleep=sleep)


def test_in_a_terminal_the_view_is_the_live_tables():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, record=True)
    watch(console)
    shown = console.export_text()
    assert "SLOs of every service (recorded series)" in shown
    assert "OrdersApiAvailabilityBudgetBurn[resolved] 1h" in shown


def test_piped_output_gets_plain_lines():
    out = io.StringIO()
    watch(Console(file=out, force_terminal=False, width=80))
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()  # no terminal control sequences
    assert lines[0].endswith("history 60 s | requests 10.00/s, errors —, p99 — | firing: none | faults: none")
    assert [line.split(" ", 1)[1] for line in lines[1:]] == [
        "notification to page: firing: OrdersApiAvailabilityBudgetBurn[firing] 1h",
        "notification to page: resolved: OrdersApiAvailabilityBudgetBurn[resolved] 1h",
    ]  # each once, as it arrives; the next summary line is due after PLAIN_EVERY refreshes


# The tests that share `ui_sandbox` run on one worker (`--dist loadgroup`): one sandbox, not one per worker.
UI_SANDBOX_GROUP = pytest.mark.xdist_group("ui-sandbox")


@pytest.fixture(scope="module")
def ui_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The sandbox `make local` runs, started: web app (Postgres), inventory API, agent, AMP stand-in,
    Alertmanager, sink, on the simulated cluster."""
    sandbox = Sandbox(tmp_path_factory.mktemp("ui"), synthesize(agent_replicas=1))
    try:
        sandbox.start()
        yield sandbox
    finally:
        sandbox.stop()


@UI_SANDBOX_GROUP
def test_every_printed_link_answers(ui_sandbox):
    urls = ui_sandbox.urls()
    assert set(urls) == {
        "web app", "inventory API (example service)", "agent (targets API; no web UI)",
        "AMP stand-in (alerts API; no web UI)", "Alertmanager (API; Debian ships no UI)", "notification sink",
    }  # fmt: skip
    for name, url in urls.items():
        assert httpx.get(url, timeout=10).status_code == 200, (name, url)

    def watchdog_listed() -> (
        bool
    ):  # the stand-in's alerts: Watchdog fires from its group's first evaluation on
        alerts = httpx.get(urls["AMP stand-in (alerts API; no web UI)"], timeout=10).json()["data"]["alerts"]
        return "Watchdog" in {alert["labels"]["alertname"] for alert in alerts}

    assert wait_until(watchdog_listed, attempts=90, interval=1)
    # The agent's targets: the orders API's pod among them, found by its Kubernetes discovery.
    (pod,) = ui_sandbox.stack.pods[names.WEBAPP]

    def listed() -> bool:
        targets = httpx.get(urls["agent (targets API; no web UI)"], timeout=10).json()["data"]
        return pod["metadata"]["name"] in {t["labels"].get("pod") for t in targets["activeTargets"]}

    assert wait_until(listed, attempts=60, interval=1)


@UI_SANDBOX_GROUP
def test_renewed_tokens_are_the_agents_and_let_it_discover(ui_sandbox):
    """The agent's service-account token replaced by a new one (the sandbox does it every 20 min, within
    the hour it is valid; the agent reads the file on each request): the new one lists pods as the agent."""
    token = ui_sandbox.stack.workdir / "agent" / "token"
    before = token.read_text()
    ui_sandbox.stack.renew_tokens()
    after = token.read_text()
    assert after not in ("", before)
    with ui_sandbox.stack.cluster.client(after) as client:
        assert client.get("/api/v1/pods").status_code == 200
        review = client.post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        ).json()
    assert review["status"]["userInfo"]["username"] == (
        f"system:serviceaccount:{names.MONITORING_NAMESPACE}:{names.PROMETHEUS_AGENT}"
    )


# --- Ctrl-C ---------------------------------------------------------------------------------------------
def start_local() -> tuple[subprocess.Popen[str], Path]:
    """`python -m sandbox` as `make local` runs it, its output piped, in a process group of its own as a
    terminal's foreground job is, with TMPDIR (where jsii, Postgres, the sandbox and its lock keep their
    files) a fresh directory."""
    # Under the system temp dir, open to others: as root, Postgres runs as `postgres` (harness/postgres.py).
    temp = Path(tempfile.mkdtemp(prefix="local-ctrl-c-"))
    temp.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_STATE_DIR", local.CHILD)}
    env |= {"TMPDIR": str(temp), "PYTHONPATH": f"{REPO}:{REPO / 'webapp'}"}
    env.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, temp


def read_until(process: subprocess.Popen[str], pattern: str, lines: list[str], timeout: float) -> bool:
    """Reads the output into `lines` until a line matches `pattern` (True), the output ends or `timeout`
    seconds pass (False). Waits on the pipe with select: a sandbox that stalls without printing cannot block
    the test past its timeout (a readline would). Reads the pipe's descriptor, not its buffered file, so that
    `interrupt`'s communicate() later finds all that is left."""
    fd = cast(IO[str], process.stdout).fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    partial = lines.pop() if lines and not lines[-1].endswith("\n") else ""
    found = False
    deadline = time.monotonic() + timeout
    while not found and (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            break  # timed out, or the output ended
        *complete, partial = (partial + decoder.decode(chunk)).split("\n")
        for line in complete:
            lines.append(line + "\n")
            found = found or re.search(pattern, line) is not None
    if partial:
        lines.append(partial)
    return found


def interrupt(process: subprocess.Popen[str], lines: list[str]) -> str:
    """Ctrl-C: SIGINT to the whole foreground process group. Returns the whole output."""
    os.killpg(process.pid, signal.SIGINT)
    # Generous: each child gets up to 90 s after SIGTERM (harness Process.stop); a bounded wait, not a timing.
    rest, _ = process.communicate(timeout=420)
    return "".join(lines) + rest


def leftovers(temp: Path) -> list[Any]:
    running = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(temp).encode() in cmdline.read_bytes():
                running.append(cmdline.parent.name)
        except OSError:
            continue
    return sorted(p.name for p in temp.iterdir()) + running


def test_ctrl_c_stops_the_running_sandbox_quietly_and_leaves_nothing():
    process, temp = start_local()
    lines: list[str] = []
    try:
        started = read_until(process, r"control endpoint", lines, timeout=240)
        # Piped: plain lines follow the URLs (the first at once).
        summary = started and read_until(process, r"requests .*\| faults: none", lines, timeout=60)
        output = interrupt(process, lines)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    left = leftovers(temp)
    shutil.rmtree(temp, ignore_errors=True)
    assert started, output
    assert summary, output
    assert process.returncode == 0, output
    for noise in ("Traceback", "KeyboardInterrupt", "BrokenPipeError", "b'"):
        assert noise not in output, output
    assert output.rstrip().endswith("stopped; temporary data removed."), output
    assert left == []  # no jsii-kernel-*, no lock, no data directory, no process


def test_ctrl_c_while_the_charts_synthesize_stops_quietly_and_leaves_nothing():
    process, temp = start_local()
    lines: list[str] = []
    try:
        # At once: the line is printed just before the jsii calls, which take seconds (the jsii kernel
        # starts and loads cdk8s); a later interrupt could find them done on a fast, idle machine.
        started = read_until(process, r"synthesizing the charts", lines, timeout=60)
        output = interrupt(process, lines)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    left = leftovers(temp)
    shutil.rmtree(temp, ignore_errors=True)
    assert started, output
    assert process.returncode == 0, output
    for noise in ("Traceback", "KeyboardInterrupt", "BrokenPipeError", "b'"):
        assert noise not in output, output
    assert "starting the simulated cluster" not in output
    assert left == []
