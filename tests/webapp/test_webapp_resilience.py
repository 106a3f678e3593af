"""Readiness before migration, and a real database outage and recovery."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator

import httpx
import pytest
from orders_api import slo_contract as c
from orders_api.migrations import LATEST_VERSION, migrate
from orders_api.settings import Settings
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

from harness.postgres import LocalPostgres
from tests.webapp.support import APP_ROLE, ThreadedApp, running_postgres, settings_for, wait_until


def status_of(client: httpx.Client, path: str) -> int | None:
    try:
        return client.get(path).status_code
    except httpx.TransportError:
        return None


def db_errors(client: httpx.Client) -> float:
    text = client.get(c.METRICS_PATH).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == c.DB_ERRORS_TOTAL and s.labels.get("kind") == "unavailable"
    )


def test_not_ready_until_migrated(
    pg: LocalPostgres, db_name: str, start_app: Callable[[Settings], ThreadedApp]
) -> None:
    settings = settings_for(pg, db_name, migrate_on_start=False)
    app = start_app(settings)
    with app.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "schema_not_migrated"
        assert ready.json()["schema_version"] == 0
        assert client.get("/healthz").status_code == 200
        # API calls before the schema exists are a 503, not a 500
        response = client.post("/orders", json={"item": "x", "quantity": 1})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "database_unavailable"

        applied = asyncio.run(migrate(settings.conninfo(), settings.connect_kwargs()))
        assert applied == [LATEST_VERSION]
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "schema_version": 1, "required_schema_version": 1}
        assert client.post("/orders", json={"item": "x", "quantity": 1}).status_code == 201


@pytest.fixture(scope="module")
def _private_pg() -> Iterator[LocalPostgres]:
    with running_postgres() as server:
        yield server


_dbs = itertools.count()


@pytest.fixture
def own_pg(_private_pg: LocalPostgres) -> tuple[LocalPostgres, str]:
    """A private cluster that tests may stop and restart without disturbing the
    others (running at the start of each test), and a fresh database on it."""
    if not _private_pg.running:
        _private_pg.start()
    name = f"outage_{next(_dbs)}"
    _private_pg.create_database(name, APP_ROLE)
    return _private_pg, name


def test_database_outage_gives_503_and_recovers_without_restart(
    own_pg: tuple[LocalPostgres, str], start_app: Callable[[Settings], ThreadedApp]
) -> None:
    pg, db = own_pg
    app = start_app(settings_for(pg, db, db_pool_timeout_seconds=0.5))
    # The client timeout bounds every call: a request that hung on the dead
    # database would fail the test with a timeout error instead of a 503.
    with app.client(timeout=10.0) as client:
        assert wait_until(lambda: status_of(client, "/readyz") == 200)
        order = client.post("/orders", json={"item": "survivor", "quantity": 2}).json()
        errors_before = db_errors(client)

        pg.stop()

        requests: list[Callable[[], httpx.Response]] = [
            lambda: client.get(f"/orders/{order['id']}"),
            lambda: client.get("/orders"),
            lambda: client.post("/orders", json={"item": "x", "quantity": 1}),
        ]
        for request in requests:
            response = request()
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_unavailable"
            assert response.headers["retry-after"] == "1"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "database_unavailable"
        assert client.get("/healthz").status_code == 200  # liveness must not restart us
        assert db_errors(client) >= errors_before + 3

        pg.start()

        # Same app instance, same pool: it reconnects by itself.
        assert wait_until(
            lambda: status_of(client, f"/orders/{order['id']}") == 200, attempts=120, interval=0.25
        )
        assert client.get(f"/orders/{order['id']}").json() == order
        assert wait_until(lambda: status_of(client, "/readyz") == 200, attempts=40, interval=0.25)
        assert client.post("/orders", json={"item": "after", "quantity": 1}).status_code == 201


def test_app_starts_while_database_is_down_and_becomes_ready_later(
    own_pg: tuple[LocalPostgres, str], start_app: Callable[[Settings], ThreadedApp]
) -> None:
    pg, db = own_pg
    pg.stop()
    app = start_app(settings_for(pg, db))  # startup must not block on the DB
    with app.client(timeout=10.0) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        pg.start()
        # the background migration retries until the database is back
        assert wait_until(lambda: status_of(client, "/readyz") == 200, attempts=120, interval=0.25)
        assert client.post("/orders", json={"item": "x", "quantity": 1}).status_code == 201


def test_unexpected_database_error_is_a_generic_json_500(
    pg: LocalPostgres, db_name: str, app: ThreadedApp, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a client error and not an outage (the app role lost its privileges):
    a 500 in the usual JSON shape, without internals, and counted as a DB error."""
    with pg.superuser_connect(db_name) as admin:
        admin.execute(sql.SQL("REVOKE SELECT ON orders FROM {}").format(sql.Identifier(APP_ROLE)))
    response = client.get("/orders")
    assert response.status_code == 500
    error = {"code": "internal_error", "message": "internal server error", "field": None}
    assert response.json() == {"error": error}
    logged = [r for r in caplog.records if r.name == "orders_api.errors" and r.exc_info]
    assert len(logged) == 1
    assert "InsufficientPrivilege" in repr(logged[0].exc_info)
    text = client.get(c.METRICS_PATH).text
    query_errors = [
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == c.DB_ERRORS_TOTAL and s.labels == {"operation": "list_orders", "kind": "query"}
    ]
    assert query_errors == [1.0]
    assert 'route="/orders",status="500"' in text  # the connection was kept alive
