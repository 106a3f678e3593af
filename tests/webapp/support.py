"""Shared test helpers: settings for the local Postgres, and running the app
in a thread (fast, in-process) or as a real ``python -m orders_api`` subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import uvicorn
from orders_api.app import create_app
from orders_api.settings import Settings

from harness.postgres import LocalPostgres, free_port

WEBAPP_DIR = Path(__file__).resolve().parents[2] / "webapp"
APP_ROLE = "orders_app"
# Characters that break naive DSN/URL building; distinctive enough to grep logs for.
APP_PASSWORD = "Pw@:/?#&=%-3xampleS3cret-q7v"


def settings_for(pg: LocalPostgres, db_name: str, **overrides: object) -> Settings:
    """Settings for the app role on ``db_name``, with short timeouts for tests."""
    base = Settings(
        db_host=pg.host,
        db_port=pg.port,
        db_name=db_name,
        db_user=APP_ROLE,
        db_password=APP_PASSWORD,
        db_sslmode="disable",
        db_pool_min_size=1,
        db_pool_max_size=4,
        db_pool_timeout_seconds=1.0,
        db_connect_timeout_seconds=2,
        db_reconnect_timeout_seconds=3.0,
        host="127.0.0.1",
        port=free_port(),
        shutdown_delay_seconds=0.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def env_for(settings: Settings) -> dict[str, str]:
    """The environment variables that make ``Settings.from_env`` return ``settings``
    (password excluded: tests pass it via DB_PASSWORD or DB_PASSWORD_FILE)."""
    return {
        "DB_HOST": settings.db_host,
        "DB_PORT": str(settings.db_port),
        "DB_NAME": settings.db_name,
        "DB_USER": settings.db_user,
        "DB_SSLMODE": settings.db_sslmode,
        "DB_POOL_MIN_SIZE": str(settings.db_pool_min_size),
        "DB_POOL_MAX_SIZE": str(settings.db_pool_max_size),
        "DB_POOL_TIMEOUT_SECONDS": str(settings.db_pool_timeout_seconds),
        "DB_CONNECT_TIMEOUT_SECONDS": str(settings.db_connect_timeout_seconds),
        "DB_RECONNECT_TIMEOUT_SECONDS": str(settings.db_reconnect_timeout_seconds),
        "DB_STATEMENT_TIMEOUT_MS": str(settings.db_statement_timeout_ms),
        "HOST": settings.host,
        "PORT": str(settings.port),
        "SHUTDOWN_DELAY_SECONDS": str(settings.shutdown_delay_seconds),
        "MIGRATE_ON_START": "true" if settings.migrate_on_start else "false",
        "APP_VERSION": settings.version,
        "APP_REVISION": settings.revision,
        "LOG_LEVEL": settings.log_level,
    }


def wait_until(predicate: Callable[[], bool], attempts: int = 200, interval: float = 0.05) -> bool:
    """Bounded polling: True as soon as predicate() holds, False after all attempts."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(interval)
    return False


def wait_ready(client: httpx.Client) -> None:
    def ready() -> bool:
        try:
            return client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    assert wait_until(ready), "app never became ready"


class ThreadedApp:
    """The ASGI app served by a real uvicorn server on 127.0.0.1, in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = f"http://{settings.host}:{settings.port}"
        config = uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not wait_until(lambda: self.server.started or not self.thread.is_alive()):
            raise RuntimeError("uvicorn did not start")
        if not self.server.started:
            raise RuntimeError("uvicorn failed to start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        if self.thread.is_alive():
            raise RuntimeError("uvicorn thread did not stop")

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout)


class SubprocessApp:
    """``python -m orders_api ...`` as a child process with output in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.log_path = log_path
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "APP_"))}
        full_env |= {"PYTHONPATH": str(WEBAPP_DIR), "PYTHONDONTWRITEBYTECODE": "1"} | env
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orders_api", *args],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Teardown safety net: kill our own child (by PID) if it is still running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


@contextlib.contextmanager
def running_postgres() -> Iterator[LocalPostgres]:
    """A started Postgres with the app's role, stopped and removed afterwards."""
    server = LocalPostgres()
    try:
        server.start()
        server.create_role(APP_ROLE, APP_PASSWORD)
        yield server
    finally:
        server.cleanup()
