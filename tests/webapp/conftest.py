"""Fixtures for the web app suite: one real PostgreSQL 15 per session (per xdist
worker), a fresh database per test, and the app served by uvicorn on 127.0.0.1.

This directory deliberately has no ``__init__.py`` (like tests/unit): as a
package it would be named ``webapp`` and shadow the top-level ``webapp/`` dir.
Helpers are imported as ``tests.webapp.<module>`` with the repo root on sys.path.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
for _path in (REPO_ROOT / "webapp", REPO_ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import httpx  # noqa: E402
from orders_api.settings import Settings  # noqa: E402

from harness.postgres import LocalPostgres  # noqa: E402
from tests.webapp.support import (  # noqa: E402
    APP_ROLE,
    ThreadedApp,
    running_postgres,
    settings_for,
    wait_ready,
)

_db_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; repeated so this suite runs on its own.
    config.addinivalue_line("markers", "integration: starts real processes on 127.0.0.1")
    config.addinivalue_line("markers", "xdist_group(name): run tests of a group on one worker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep this suite on one xdist worker (``--dist loadgroup``): one Postgres."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.xdist_group("webapp"))
            if item.path.name != "test_webapp_units.py":  # the rest start real processes
                item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def pg() -> Iterator[LocalPostgres]:
    with running_postgres() as server:
        yield server


def new_database(pg: LocalPostgres) -> str:
    name = f"orders_{next(_db_counter)}"
    pg.create_database(name, APP_ROLE)
    return name


@pytest.fixture
def db_name(pg: LocalPostgres) -> str:
    """A fresh, empty database owned by the app role."""
    return new_database(pg)


@pytest.fixture
def start_app() -> Iterator[Callable[[Settings], ThreadedApp]]:
    started: list[ThreadedApp] = []

    def start(settings: Settings) -> ThreadedApp:
        app = ThreadedApp(settings)
        app.start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def _ready_app(settings: Settings) -> ThreadedApp:
    running = ThreadedApp(settings)
    running.start()
    try:
        with running.client() as client:
            wait_ready(client)
    except BaseException:
        running.stop()
        raise
    return running


@pytest.fixture
def app(pg: LocalPostgres, db_name: str) -> Iterator[ThreadedApp]:
    """A migrated, ready app on a fresh database (per test)."""
    running = _ready_app(settings_for(pg, db_name))
    yield running
    running.stop()


@pytest.fixture
def client(app: ThreadedApp) -> Iterator[httpx.Client]:
    with app.client() as c:
        yield c


@pytest.fixture(scope="module")
def shared_app(pg: LocalPostgres) -> Iterator[ThreadedApp]:
    """One migrated app per test module, for tests that do not care about existing rows."""
    running = _ready_app(settings_for(pg, new_database(pg)))
    yield running
    running.stop()


@pytest.fixture
def shared_client(shared_app: ThreadedApp) -> Iterator[httpx.Client]:
    with shared_app.client() as c:
        yield c
