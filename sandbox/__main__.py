"""`make local`: start the sandbox, print where each UI is, then a live view until Ctrl-C.

A second `make local` while one runs says so and exits (the lock), before starting anything. Ctrl-C or
SIGTERM stops everything this started, by PID, and removes its temporary data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from rich.live import Live

from sandbox.control import AlreadyRunningError, ControlServer, SandboxLock
from sandbox.faults import FAULTS, FaultError
from sandbox.view import Snapshot, collect, render

if TYPE_CHECKING:
    from sandbox.core import Sandbox

REFRESH_SECONDS = 5
TRANSIENT_SECONDS = 120  # how long the view shows a one-off fault (agent restarted)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: the `finally` below stops everything


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(prog="make local", description=__doc__)
    options.add_argument("--no-view", action="store_true", help="print the URLs, then only wait for Ctrl-C")
    args = options.parse_args(argv)
    console = Console()
    lock = SandboxLock()
    try:
        lock.acquire()
    except AlreadyRunningError as exc:
        console.print(f"[bold yellow]{exc}[/]")
        return 1
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="orders-sandbox-"))
    from sandbox.core import Sandbox  # imports cdk8s (jsii): only once the lock is ours

    sandbox: Sandbox | None = None
    control: ControlServer | None = None
    try:
        console.print("synthesizing the charts (the agent's targets are the synthesized pods) ...")
        # jsii (cdk8s) runs `node` from PATH or $JSII_NODE: the venv's Node 24, as in the tests.
        os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
        from harness.manifests import synthesize

        sandbox = Sandbox(workdir, synthesize())
        console.print("starting Postgres, the web app, exporters, agent, AMP stand-in, Alertmanager ...")
        sandbox.start()
        control = ControlServer(sandbox, errors=(FaultError, ValueError))
        control.start()
        lock.write_state({"pid": os.getpid(), "control": control.url, "urls": sandbox.urls()})
        for name, url in sandbox.urls().items():
            console.print(f"  {name:<40} {url}")
        console.print(f"  {'control endpoint':<40} {control.url}/status")
        console.print("break it:  make fault FAULT=<fault>   (" + ", ".join(f.name for f in FAULTS) + ")")
        console.print(
            "first rates after two scrapes (~1 min), SLO series after the next rule evaluation. Ctrl-C stops."
        )
        if args.no_view:
            while True:
                time.sleep(3600)
        with Live(console=console, refresh_per_second=1, transient=False) as live:
            while True:
                live.update(render(snapshot(sandbox)))
                time.sleep(REFRESH_SECONDS)
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

    return collect(sandbox.receiver.query, firing, sandbox.sink.notifications(), faults, now=now)


if __name__ == "__main__":
    sys.exit(main())
