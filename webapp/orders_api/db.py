"""Connection pool and the orders data-access layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .metrics import Metrics
from .settings import Settings

Conn = AsyncConnection[tuple[Any, ...]]


class DatabaseUnavailableError(Exception):
    """The database could not be reached (or a connection was lost)."""


@dataclass(frozen=True)
class Order:
    id: int
    item: str
    quantity: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "quantity": self.quantity,
            "created_at": self.created_at.isoformat(),
        }


def create_pool(settings: Settings) -> AsyncConnectionPool[Conn]:
    """A pool that is opened later (``open(wait=False)``) so the app starts even
    while the database is down, validates connections on checkout, and keeps
    retrying to reconnect (backoff capped by ``db_reconnect_timeout_seconds``)."""
    return AsyncConnectionPool(
        conninfo=settings.conninfo(),
        kwargs=settings.connect_kwargs(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=settings.db_pool_timeout_seconds,
        reconnect_timeout=settings.db_reconnect_timeout_seconds,
        check=AsyncConnectionPool.check_connection,
        name="orders-api",
        open=False,
    )


class OrderStore:
    def __init__(self, pool: AsyncConnectionPool[Conn], metrics: Metrics) -> None:
        self._pool = pool
        self._metrics = metrics

    @asynccontextmanager
    async def _operation(self, name: str, timeout: float | None = None) -> AsyncIterator[Conn]:
        """Check out a connection, time the work, and map connectivity failures
        (pool timeout, lost connection, server shutdown) to ``DatabaseUnavailableError``."""
        try:
            async with self._pool.connection(timeout=timeout) as conn:
                start = perf_counter()
                try:
                    yield conn
                finally:
                    self._metrics.db_duration.labels(operation=name).observe(perf_counter() - start)
        except psycopg.OperationalError as exc:  # includes PoolTimeout and PoolClosed
            self._metrics.db_errors.labels(operation=name, kind="unavailable").inc()
            raise DatabaseUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        except psycopg.errors.UndefinedTable as exc:  # migrations not applied (yet)
            self._metrics.db_errors.labels(operation=name, kind="schema").inc()
            raise DatabaseUnavailableError(f"schema not migrated: {exc}") from exc
        except psycopg.Error:
            self._metrics.db_errors.labels(operation=name, kind="query").inc()
            raise

    async def create(self, item: str, quantity: int) -> Order:
        async with self._operation("insert_order") as conn:
            cur = await conn.execute(
                "INSERT INTO orders (item, quantity) VALUES (%s, %s)"
                " RETURNING id, item, quantity, created_at",
                (item, quantity),
            )
            row = await cur.fetchone()
        assert row is not None
        return Order(*row)

    async def get(self, order_id: int) -> Order | None:
        async with self._operation("get_order") as conn:
            cur = await conn.execute(
                "SELECT id, item, quantity, created_at FROM orders WHERE id = %s", (order_id,)
            )
            row = await cur.fetchone()
        return Order(*row) if row else None

    async def list(self, limit: int, before_id: int | None) -> tuple[list[Order], int | None]:
        """Newest first; keyset pagination on ``id``. Returns (page, next_cursor)."""
        async with self._operation("list_orders") as conn:
            if before_id is None:
                cur = await conn.execute(
                    "SELECT id, item, quantity, created_at FROM orders ORDER BY id DESC LIMIT %s",
                    (limit + 1,),
                )
            else:
                cur = await conn.execute(
                    "SELECT id, item, quantity, created_at FROM orders"
                    " WHERE id < %s ORDER BY id DESC LIMIT %s",
                    (before_id, limit + 1),
                )
            rows = await cur.fetchall()
        orders = [Order(*row) for row in rows[:limit]]
        next_cursor = orders[-1].id if len(rows) > limit else None
        return orders, next_cursor

    async def schema_version(self, timeout: float) -> int:
        """Highest applied migration, 0 if none (no ``schema_migrations`` table yet)."""
        async with self._operation("schema_version", timeout=timeout) as conn:
            cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            row = await cur.fetchone()
            if not row or not row[0]:
                return 0
            cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
            row = await cur.fetchone()
        return int(row[0]) if row else 0
