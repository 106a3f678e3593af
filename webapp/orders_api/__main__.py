"""Entrypoint: ``python -m orders_api [serve|migrate]``.

``serve`` (default) runs the HTTP server; ``migrate`` applies schema migrations
and exits (0 on success), for use as a Kubernetes init container or job.
This is the only place that reads environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

import psycopg

from .app import create_app
from .lifecycle import Lifecycle
from .logging_config import configure_logging
from .migrations import migrate
from .server import run_server
from .settings import Settings, SettingsError

logger = logging.getLogger("orders_api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_api", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        configure_logging("INFO")
        logger.error("invalid configuration: %s", exc, extra={"env_var": exc.env_var})
        return 2
    secrets = [settings.db_password] if settings.db_password else []
    configure_logging(settings.log_level, secrets)
    if args.command == "migrate":
        return run_migrations(settings)
    lifecycle = Lifecycle()  # shared: the server's SIGTERM handling flips readiness
    return 0 if run_server(create_app(settings, lifecycle), settings, lifecycle) else 1


def run_migrations(settings: Settings) -> int:
    logger.info("running migrations", extra={"dsn": settings.redacted_dsn()})
    try:
        applied = asyncio.run(migrate(settings.conninfo(), settings.connect_kwargs()))
    except psycopg.Error as exc:
        logger.error("migration failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        return 1
    logger.info("schema is up to date", extra={"applied_versions": applied})
    return 0


if __name__ == "__main__":
    sys.exit(main())
