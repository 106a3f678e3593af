"""How a second command finds and drives the running sandbox, and how a second sandbox is refused.

`SandboxLock` holds an exclusive `flock` on `<state dir>/sandbox.lock` for the sandbox's lifetime (the
kernel drops it when the process dies, however it dies) and writes `state.json` next to it: the PID,
the control endpoint and the UIs. `ControlServer` is that endpoint, on 127.0.0.1:
`GET /status`, `POST /faults/<name>` (JSON body: parameters). `send_fault` and `read_status` are its
client, used by `python -m sandbox.fault`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from harness.postgres import free_port

HOST = "127.0.0.1"


def default_state_dir() -> Path:
    """`$SANDBOX_STATE_DIR`, else a per-user directory under the system temp dir."""
    configured = os.environ.get("SANDBOX_STATE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"orders-sandbox-{os.getuid()}"


class AlreadyRunningError(RuntimeError):
    """Another sandbox holds the lock; the message says where it is."""


class SandboxLock:
    """The lock file holds an exclusive `flock` while the sandbox runs and is removed when it stops.
    A lock whose recorded PID no longer exists (a sandbox killed while something it started kept the
    file open) is stale: it is taken over, not obeyed."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir or default_state_dir()
        self.lock_path = self.state_dir / "sandbox.lock"
        self.state_path = self.state_dir / "state.json"
        self._file: IO[str] | None = None
        self._made_state_dir = False

    def acquire(self) -> None:
        self._made_state_dir = not self.state_dir.exists()
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _ in range(3):  # a lock removed by its holder between our open and flock: open it again
            file = self.lock_path.open("a+")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                state = read_state(self.state_path)
                if state and "pid" in state and not _alive(int(state["pid"])):
                    self.lock_path.unlink(missing_ok=True)  # stale: the next file is ours to lock
                    self.state_path.unlink(missing_ok=True)
                    continue
                raise AlreadyRunningError(self._running_message(state)) from None
            if _same_file(file, self.lock_path):
                self._file = file
                # Our PID at once: a later sandbox can tell a stale lock from one still starting.
                self.write_state({"pid": os.getpid()})
                return
            file.close()
        raise AlreadyRunningError(f"could not take the lock {self.lock_path}: it keeps being replaced")

    @staticmethod
    def _running_message(state: dict[str, Any] | None) -> str:
        if state and "control" in state:
            where = f" (pid {state['pid']}, control {state['control']})"
        elif state and "pid" in state:
            where = f" (pid {state['pid']}, still starting)"
        else:
            where = " (still starting)"
        return (
            f"a sandbox is already running{where}: use `make fault FAULT=...` against it, or stop it "
            "with Ctrl-C in its terminal first"
        )

    def write_state(self, state: dict[str, Any]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(self.state_path)

    def release(self) -> None:
        """Removes the state and the lock file (while still holding it), then the state directory if it
        made it and nothing else is in it."""
        if self._file is not None:
            self.state_path.unlink(missing_ok=True)
            self.lock_path.unlink(missing_ok=True)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
            if self._made_state_dir:
                with contextlib.suppress(OSError):  # another sandbox's files, or already gone
                    self.state_dir.rmdir()

    def __enter__(self) -> SandboxLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _same_file(file: IO[str], path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(file.fileno()).st_ino
    except FileNotFoundError:
        return False


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state


class Controllable(Protocol):
    """What the control endpoint drives: `Sandbox`, or a fake in the tests."""

    def apply(self, name: str, params: dict[str, Any] | None = None) -> str: ...

    def status(self) -> dict[str, Any]: ...


class ControlServer:
    def __init__(self, target: Controllable, errors: tuple[type[Exception], ...] = (ValueError,)) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/status":
                    self._reply(404, {"error": f"no {self.path}; GET /status, POST /faults/<name>"})
                    return
                self._reply(200, target.status())

            def do_POST(self) -> None:
                if not self.path.startswith("/faults/"):
                    self._reply(404, {"error": f"no {self.path}; POST /faults/<name>"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    params = json.loads(self.rfile.read(length) or b"{}")
                    message = target.apply(self.path.removeprefix("/faults/"), params)
                except errors as exc:
                    self._reply(400, {"error": str(exc)})
                    return
                self._reply(200, {"message": message})

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="control", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NotRunningError(RuntimeError):
    pass


def control_url(state_dir: Path | None = None) -> str:
    state = read_state((state_dir or default_state_dir()) / "state.json")
    if not state:
        raise NotRunningError("no sandbox is running: start one with `make local`")
    url: str = state["control"]
    return url


# Faults wait for what they do (start Postgres, the receiver ready): up to a minute or two.
FAULT_TIMEOUT = 180


def send_fault(name: str, params: dict[str, Any] | None = None, state_dir: Path | None = None) -> str:
    """Applies a fault to the running sandbox; returns its message. Raises NotRunningError or ValueError."""
    try:
        response = httpx.post(
            f"{control_url(state_dir)}/faults/{name}", json=params or {}, timeout=FAULT_TIMEOUT
        )
    except httpx.TransportError as exc:
        raise NotRunningError(f"the sandbox's control endpoint does not answer ({exc})") from None
    body: dict[str, Any] = response.json()
    if response.status_code != 200:
        raise ValueError(body.get("error", response.text))
    message: str = body["message"]
    return message


def read_status(state_dir: Path | None = None) -> dict[str, Any]:
    try:
        result: dict[str, Any] = httpx.get(f"{control_url(state_dir)}/status", timeout=10).json()
    except httpx.TransportError as exc:
        raise NotRunningError(f"the sandbox's control endpoint does not answer ({exc})") from None
    return result
