"""The real process: ``python -m orders_api`` with SIGTERM draining, JSON logs
and no secrets in them."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from harness.postgres import LocalPostgres
from tests.webapp.support import APP_PASSWORD, SubprocessApp, env_for, settings_for, wait_ready, wait_until


def accepting(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    """As a Secrets Store CSI driver mounts it (trailing newline included)."""
    path = tmp_path / "secrets" / "db-password"
    path.parent.mkdir()
    path.write_text(APP_PASSWORD + "\n")
    path.chmod(0o400)
    return path


@pytest.fixture
def proc_holder() -> Iterator[list[SubprocessApp]]:
    procs: list[SubprocessApp] = []
    yield procs
    for proc in procs:
        proc.kill()


def test_sigterm_drains_then_exits_cleanly(
    pg: LocalPostgres, db_name: str, tmp_path: Path, password_file: Path, proc_holder: list[SubprocessApp]
) -> None:
    # A long delay that the test cuts short with a second SIGTERM once it has seen
    # readiness flip: no race against the clock on a busy machine.
    settings = settings_for(pg, db_name, shutdown_delay_seconds=120.0, db_statement_timeout_ms=60000)
    env = env_for(settings) | {"DB_PASSWORD_FILE": str(password_file), "APP_VERSION": "1.2.3"}
    app = SubprocessApp(env, tmp_path / "app.log")
    proc_holder.append(app)
    base_url = f"http://{settings.host}:{settings.port}"

    with httpx.Client(base_url=base_url, timeout=30) as client:
        wait_ready(client)
        order = client.post("/orders", json={"item": "in flight", "quantity": 1}).json()

        with pg.superuser_connect(db_name) as blocker, ThreadPoolExecutor(max_workers=1) as pool:
            # Hold a lock so that a request is provably in flight during shutdown.
            blocker.execute("BEGIN")
            blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            in_flight = pool.submit(lambda: httpx.get(f"{base_url}/orders/{order['id']}", timeout=60))

            def app_query_blocked() -> bool:
                row = blocker.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orders-api'"
                    " AND wait_event_type = 'Lock'"
                ).fetchone()
                return bool(row and row[0] == 1)

            assert wait_until(app_query_blocked), "the request never reached the database"
            app.proc.send_signal(signal.SIGTERM)

            # 1. During the shutdown delay: still serving, but not ready.
            assert wait_until(lambda: client.get("/readyz").status_code == 503)
            assert client.get("/readyz").json() == {"status": "shutting_down"}
            assert client.get("/healthz").status_code == 200
            assert client.get("/orders/not-a-number").status_code == 422  # the API still answers
            # 2. A second SIGTERM ends the delay: no new connections; the in-flight request waits.
            app.proc.send_signal(signal.SIGTERM)
            assert wait_until(lambda: not accepting(settings.host, settings.port), attempts=400)
            assert not in_flight.done()
            assert app.proc.poll() is None
            # 3. Release the lock: the in-flight request completes, then the process exits 0.
            blocker.execute("ROLLBACK")
            response = in_flight.result(timeout=60)
    assert response.status_code == 200
    assert response.json() == order
    assert app.wait(timeout=60) == 0

    output = app.output()
    assert APP_PASSWORD not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    messages = [line["message"] for line in lines]
    assert "shutdown started: readiness now reports 503" in messages
    assert messages.index("shutdown started: readiness now reports 503") < messages.index("Shutting down")
    assert "stopped: database pool closed" in messages
    (starting,) = [line for line in lines if line["message"] == "starting"]
    assert starting["dsn"] == (
        f"host={pg.host} port={pg.port} dbname={db_name} user=orders_app sslmode=disable password=***"
    )
    assert starting["version"] == "1.2.3"
    access = [line for line in lines if line["logger"] == "orders_api.access"]
    assert {"method": "GET", "route": "/orders/{order_id}", "status": 200} in [
        {k: line[k] for k in ("method", "route", "status")} for line in access
    ]
    assert all(isinstance(line["duration_ms"], float) for line in access)


def test_logs_never_contain_the_password(
    pg: LocalPostgres, db_name: str, tmp_path: Path, proc_holder: list[SubprocessApp]
) -> None:
    """Password from DB_PASSWORD this time, debug logging on, and errors provoked.
    Also: after one SIGTERM the shutdown delay runs out by itself and the process exits 0."""
    settings = settings_for(pg, db_name, log_level="DEBUG", shutdown_delay_seconds=0.5)
    app = SubprocessApp(env_for(settings) | {"DB_PASSWORD": APP_PASSWORD}, tmp_path / "app.log")
    proc_holder.append(app)
    with httpx.Client(base_url=f"http://{settings.host}:{settings.port}", timeout=30) as client:
        wait_ready(client)
        assert client.post("/orders", json={"item": APP_PASSWORD[:5], "quantity": 1}).status_code == 201
        assert (
            client.post("/orders", content=b"{", headers={"content-type": "application/json"}).status_code
            == 400
        )
        # A request that echoes the password in the URL must not leak it via logs either.
        assert client.get("/orders", params={"cursor": APP_PASSWORD}).status_code == 422
        client.get("/metrics")
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait(timeout=60) == 0
    output = app.output()
    assert output.count("\n") > 10
    assert APP_PASSWORD not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert {line["level"] for line in lines} >= {"DEBUG", "INFO"}
    messages = [line["message"] for line in lines]
    assert messages.index("shutdown started: readiness now reports 503") < messages.index("Shutting down")
