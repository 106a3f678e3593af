"""Schema migrations: idempotent, serialized by an advisory lock, and the CLI."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from orders_api.migrations import ADVISORY_LOCK_KEY, LATEST_VERSION, MIGRATIONS, migrate
from orders_api.settings import Settings

from harness.postgres import LocalPostgres
from tests.webapp.support import APP_PASSWORD, SubprocessApp, env_for, settings_for, wait_until


def run_migrate(settings: Settings) -> list[int]:
    return asyncio.run(migrate(settings.conninfo(), settings.connect_kwargs()))


def applied_versions(pg: LocalPostgres, db_name: str) -> list[int]:
    with pg.superuser_connect(db_name) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [int(r[0]) for r in rows]


def test_migrate_is_idempotent(pg: LocalPostgres, db_name: str) -> None:
    settings = settings_for(pg, db_name)
    assert run_migrate(settings) == [v for v, _, _ in MIGRATIONS]
    assert run_migrate(settings) == []
    assert run_migrate(settings) == []
    assert applied_versions(pg, db_name) == [v for v, _, _ in MIGRATIONS]
    assert MIGRATIONS[-1][0] == LATEST_VERSION


def test_concurrent_migrations_apply_each_version_once(pg: LocalPostgres, db_name: str) -> None:
    settings = settings_for(pg, db_name)
    runners = 6
    barrier = threading.Barrier(runners)

    def race() -> list[int]:
        barrier.wait(timeout=30)
        return run_migrate(settings)

    with ThreadPoolExecutor(max_workers=runners) as pool:
        results = [f.result(timeout=60) for f in [pool.submit(race) for _ in range(runners)]]
    assert sorted(results) == [[]] * (runners - 1) + [[LATEST_VERSION]]
    assert applied_versions(pg, db_name) == [LATEST_VERSION]


def test_migration_waits_for_the_advisory_lock(pg: LocalPostgres, db_name: str) -> None:
    """While another session (another replica) holds the lock, a runner neither
    reads nor changes the schema; it proceeds once the lock is released."""
    settings = settings_for(pg, db_name)
    with pg.superuser_connect(db_name) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(run_migrate, settings)

            def waiting_on_lock() -> bool:
                row = holder.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                    (db_name,),
                ).fetchone()
                return bool(row and row[0] == 1)

            assert wait_until(waiting_on_lock), "migration did not wait for the advisory lock"
            assert not future.done()
            row = holder.execute("SELECT to_regclass('schema_migrations')").fetchone()
            assert row == (None,)
            holder.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
            assert future.result(timeout=30) == [LATEST_VERSION]


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line)
    return lines


def test_migrate_command(pg: LocalPostgres, db_name: str, tmp_path: Path) -> None:
    env = env_for(settings_for(pg, db_name)) | {"DB_PASSWORD": APP_PASSWORD}
    for attempt in range(2):  # the second run finds nothing to do
        proc = SubprocessApp(env, tmp_path / f"migrate-{attempt}.log", args=("migrate",))
        assert proc.wait(timeout=60) == 0, proc.output()
        lines = _json_lines(proc.output())
        assert APP_PASSWORD not in proc.output()
        done = [line for line in lines if line["message"] == "schema is up to date"]
        assert done
        assert done[0]["applied_versions"] == ([LATEST_VERSION] if attempt == 0 else [])
    assert applied_versions(pg, db_name) == [LATEST_VERSION]


def test_migrate_command_fails_cleanly_on_bad_password(
    pg: LocalPostgres, db_name: str, tmp_path: Path
) -> None:
    wrong = "Wr0ng-" + APP_PASSWORD[::-1]
    env = env_for(settings_for(pg, db_name)) | {"DB_PASSWORD": wrong}
    proc = SubprocessApp(env, tmp_path / "migrate.log", args=("migrate",))
    assert proc.wait(timeout=60) == 1
    output = proc.output()
    lines = _json_lines(output)
    assert any(line["level"] == "ERROR" and line["message"] == "migration failed" for line in lines)
    assert "password authentication failed" in output
    assert wrong not in output


def test_invalid_configuration_names_the_variable(tmp_path: Path) -> None:
    proc = SubprocessApp({"DB_PORT": "not-a-port"}, tmp_path / "bad.log")
    assert proc.wait(timeout=60) == 2
    (line,) = _json_lines(proc.output())
    assert line["level"] == "ERROR"
    assert line["env_var"] == "DB_PORT"
    assert "DB_PORT" in str(line["message"])
    assert "between 1 and 65535" in str(line["message"])
