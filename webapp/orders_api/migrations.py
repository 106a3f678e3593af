"""Versioned, idempotent schema migrations, safe with many replicas starting at once.

Every runner takes the same session-level ``pg_advisory_lock`` before reading
``schema_migrations``, so exactly one applies pending migrations while the
others wait and then find nothing left to do. Each migration and its
``schema_migrations`` row are committed in one transaction.
"""

from __future__ import annotations

import logging
from typing import Any, LiteralString

import psycopg

logger = logging.getLogger("orders_api.migrations")

# int64 key shared by every replica ("orders01" in ASCII).
ADVISORY_LOCK_KEY = 0x6F72646572733031

# (version, description, SQL). Append only; never edit an applied migration.
MIGRATIONS: tuple[tuple[int, str, LiteralString], ...] = (
    (
        1,
        "create orders table",
        """
        CREATE TABLE orders (
            id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            item       text    NOT NULL CHECK (char_length(item) BETWEEN 1 AND 200),
            quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
    ),
)
LATEST_VERSION = MIGRATIONS[-1][0]

_CREATE_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    description text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conninfo: str, connect_kwargs: dict[str, Any]) -> list[int]:
    """Apply pending migrations; return the versions applied by this call."""
    kwargs = {k: v for k, v in connect_kwargs.items() if k != "options"}  # no statement_timeout
    applied: list[int] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True, **kwargs) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            await conn.execute(_CREATE_VERSIONS_TABLE)
            cur = await conn.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for version, description, statement in MIGRATIONS:
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)",
                        (version, description),
                    )
                logger.info("applied migration", extra={"schema_version": version})
                applied.append(version)
        finally:
            if not conn.broken:  # a broken session has released its locks already
                await conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied
