"""Application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from .db import DatabaseUnavailableError, OrderStore, create_pool
from .errors import ApiError, handle_api_error, handle_http_exception, handle_unexpected
from .lifecycle import Lifecycle
from .metrics import Metrics
from .migrations import migrate
from .observability import ObservabilityMiddleware
from .routes import build_routes, handle_db_unavailable
from .settings import Settings

logger = logging.getLogger("orders_api.app")
MIGRATION_RETRY_MAX_SECONDS = 10.0
POOL_CLOSE_TIMEOUT_SECONDS = 5.0


async def migrate_until_done(settings: Settings) -> None:
    """Background task: apply migrations, retrying while the database is unreachable.
    Until it succeeds /readyz reports 503 (schema not migrated / database down)."""
    delay = 0.5
    while True:
        try:
            applied = await migrate(settings.conninfo(), settings.connect_kwargs())
        except psycopg.Error as exc:
            logger.warning(
                "migration attempt failed, retrying",
                extra={"error": f"{type(exc).__name__}: {exc}", "retry_in_seconds": delay},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MIGRATION_RETRY_MAX_SECONDS)
        else:
            logger.info("schema is up to date", extra={"applied_versions": applied})
            return


def create_app(settings: Settings, lifecycle: Lifecycle | None = None) -> Starlette:
    lifecycle = lifecycle or Lifecycle()
    metrics = Metrics(settings.version, settings.revision)
    pool = create_pool(settings)
    metrics.watch_pool(pool.get_stats)
    store = OrderStore(pool, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        logger.info(
            "starting",
            extra={
                "dsn": settings.redacted_dsn(),
                "version": settings.version,
                "revision": settings.revision,
            },
        )
        await pool.open(wait=False)  # do not block startup on the database
        migration = None
        if settings.migrate_on_start:
            migration = asyncio.create_task(migrate_until_done(settings))
        try:
            yield
        finally:
            lifecycle.begin_shutdown()
            if migration is not None:
                migration.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await migration
            await pool.close(timeout=POOL_CLOSE_TIMEOUT_SECONDS)
            logger.info("stopped: database pool closed")

    app = Starlette(
        routes=build_routes(store, lifecycle, metrics, settings.db_pool_timeout_seconds),
        middleware=[Middleware(ObservabilityMiddleware, metrics=metrics)],
        exception_handlers={
            ApiError: handle_api_error,
            DatabaseUnavailableError: handle_db_unavailable,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    return app
