"""`make local`: start the sandbox, print where each UI is, then a live view until Ctrl-C.

A second `make local` while one runs says so and exits (the lock), before starting anything. Ctrl-C or
SIGTERM stops everything this started, by PID, and removes its temporary data and the lock.

The sandbox runs in a child process in its own session, and this process passes Ctrl-C on to it alone.
A terminal's Ctrl-C goes to every process of the foreground group: it would also kill the jsii kernel
(the `node` process cdk8s synthesizes the charts with) under the sandbox's feet, which then prints its
dying kernel's output, a BrokenPipeError at exit, and leaves its `jsii-kernel-*` directory behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from rich.live import Live

from harness.lifecycle import unwind_on_sigterm
from sandbox.control import AlreadyRunningError, ControlServer, SandboxLock
from sandbox.faults import FAULTS, FaultError
from sandbox.view import Snapshot, collect, notification_line, render, summary_line

if TYPE_CHECKING:
    from harness.manifests import Manifests
    from sandbox.core import Sandbox

REFRESH_SECONDS = 5
PLAIN_EVERY = 6  # refreshes between two summary lines when the output is not a terminal (30 s)
TRANSIENT_SECONDS = 120  # how long the view shows a one-off fault (agent restarted)
CHILD = "ORDERS_SANDBOX_CHILD"  # set in the child that runs the sandbox


def options() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="make local", description=__doc__.split("\n\n")[0])
    result.add_argument("--no-view", action="store_true", help="print the URLs, then only wait for Ctrl-C")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options().parse_args(args)  # --help and bad options answered here, before anything starts
    if os.environ.get(CHILD) == "1":
        return run(args)
    return launch(args)


def launch(args: Sequence[str]) -> int:
    """Runs the sandbox in a child process in its own session; Ctrl-C, SIGTERM and SIGHUP reach only
    that child (as SIGINT, SIGTERM, SIGTERM), which stops everything it started. Returns its exit code."""
    child = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args], env=os.environ | {CHILD: "1"}, start_new_session=True
    )

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    return child.wait()


def run(args: Sequence[str]) -> int:
    no_view = options().parse_args(args).no_view
    console = Console()
    lock = SandboxLock()
    try:
        lock.acquire()
    except AlreadyRunningError as exc:
        console.print(f"[bold yellow]{exc}[/]")
        return 1
    unwind_on_sigterm()  # SIGTERM and Ctrl-C unwind: the `finally` below stops everything
    workdir = Path(tempfile.mkdtemp(prefix="orders-sandbox-"))
    sandbox: Sandbox | None = None
    control: ControlServer | None = None
    try:
        console.print("synthesizing the charts (applied to the simulated cluster, their pods run there) ...")
        manifests = _synthesize()
        from sandbox.core import Sandbox

        sandbox = Sandbox(workdir, manifests)
        console.print(
            "starting the simulated cluster, Postgres, both services, exporters, agent, AMP stand-in,"
            " Alertmanager ..."
        )
        sandbox.start()
        control = ControlServer(sandbox, errors=(FaultError, ValueError))
        control.start()
        lock.write_state(
            {"pid": os.getpid(), "control": control.url, "urls": sandbox.urls(), "env": sandbox.environment()}
        )
        for name, url in sandbox.urls().items():
            console.print(f"  {name:<40} {url}", highlight=False)
        console.print(f"  {'control endpoint':<40} {control.url}/status", highlight=False)
        console.print(
            'kubectl and the URLs in another shell:  eval "$(make -s local-env)"   (docs/learn/)',
            highlight=False,
            soft_wrap=True,
        )
        console.print("break it:  make fault FAULT=<name>   (" + ", ".join(f.name for f in FAULTS) + ")")
        console.print(
            "first rates after two scrapes (~1 min), SLO series after the next rule evaluation. Ctrl-C stops."
        )
        if no_view:
            while True:
                time.sleep(3600)
        running = sandbox
        watch(console, lambda: snapshot(running))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        console.print("stopping everything the sandbox started ...")
        if control is not None:
            control.stop()
        try:
            if sandbox is not None:
                sandbox.stop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            lock.release()
        console.print("stopped; temporary data removed.")
    return 0


def _synthesize() -> Manifests:
    """The charts' manifests (cdk8s, through jsii). A Ctrl-C meanwhile waits until the jsii call returns
    (a few seconds), then stops the sandbox: interrupted mid-call, jsii would lose its place in the
    conversation with its kernel."""
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        # jsii (cdk8s) runs `node` from PATH or $JSII_NODE: the venv's Node 24, as in the tests.
        os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
        from harness.manifests import synthesize

        return synthesize(agent_replicas=1)  # one agent: the receiver does not deduplicate a pair
    finally:
        signal.signal(signal.SIGINT, previous)
        if interrupted:
            raise KeyboardInterrupt


def watch(
    console: Console,
    take: Callable[[], Snapshot],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Shows a snapshot every REFRESH_SECONDS until interrupted: a live view in a terminal; otherwise
    (`make local | tee log`) a plain summary line every PLAIN_EVERY refreshes and a line for each
    notification the sink receives, as it arrives."""
    if console.is_terminal:
        with Live(console=console, refresh_per_second=1, transient=False) as live:
            while True:
                live.update(render(take()))
                sleep(REFRESH_SECONDS)
    printed = 0.0
    for refresh in range(sys.maxsize):
        now = take()
        if refresh % PLAIN_EVERY == 0:
            console.print(summary_line(now), markup=False, highlight=False, soft_wrap=True)
        # The snapshot keeps the last few notifications: print those received since the previous one.
        for note in now.notifications:
            if note["received_at"] > printed:
                console.print(notification_line(note), markup=False, highlight=False, soft_wrap=True)
        printed = max([printed, *(float(n["received_at"]) for n in now.notifications)])
        sleep(REFRESH_SECONDS)


def snapshot(sandbox: Sandbox) -> Snapshot:
    now = time.time()
    faults = {
        key: (what, since)
        for key, (what, since) in dict(sandbox.active).items()
        if key != "agent" or now - since < TRANSIENT_SECONDS
    }

    def firing() -> list[dict[str, object]]:
        alerts: list[dict[str, object]] = httpx.get(
            f"{sandbox.receiver.url}/api/v1/alerts", timeout=3
        ).json()["data"]["alerts"]
        return alerts

    return collect(
        sandbox.receiver.query,
        firing,
        sandbox.sink.notifications(),
        faults,
        services=sandbox.services,
        now=now,
        history_seconds=now - sandbox.started_at,
    )


if __name__ == "__main__":
    sys.exit(main())
