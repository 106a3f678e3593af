"""Typed, immutable settings. Environment variables are read only by ``from_env``,
which the entrypoint (``__main__``) calls; everything else receives a ``Settings``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

from . import slo_contract
from .envparse import EnvReader, SettingsError, boolean, choice, float_in, int_in

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
REDACTED = "***"
__all__ = ["LOG_LEVELS", "SSL_MODES", "Settings", "SettingsError"]


@dataclasses.dataclass(frozen=True)
class Settings:
    db_host: str = "localhost"
    db_port: int = 5432
    db_name: str = "orders"
    db_user: str = "orders"
    db_password: str | None = dataclasses.field(default=None, repr=False)
    db_sslmode: str = "prefer"
    db_sslrootcert: str | None = None
    db_pool_min_size: int = 1
    db_pool_max_size: int = 10
    db_pool_timeout_seconds: float = 2.0
    db_connect_timeout_seconds: int = 3
    db_reconnect_timeout_seconds: float = 10.0
    db_statement_timeout_ms: int = 5000
    host: str = "0.0.0.0"  # noqa: S104 - containers must listen on all interfaces
    port: int = slo_contract.APP_PORT
    log_level: str = "INFO"
    version: str = "dev"
    revision: str = "unknown"
    migrate_on_start: bool = True
    shutdown_delay_seconds: float = 5.0
    graceful_shutdown_timeout_seconds: int = 20

    def conninfo(self) -> str:
        """libpq connection string WITHOUT the password (it goes in ``connect_kwargs``)."""
        params: dict[str, Any] = {"host": self.db_host, "port": self.db_port}
        params |= {"dbname": self.db_name, "user": self.db_user, "sslmode": self.db_sslmode}
        if self.db_sslrootcert:
            params["sslrootcert"] = self.db_sslrootcert
        return make_conninfo(**params)

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "connect_timeout": self.db_connect_timeout_seconds,
            "application_name": "orders-api",
            "options": f"-c statement_timeout={self.db_statement_timeout_ms}",
        }
        if self.db_password is not None:
            kwargs["password"] = self.db_password
        return kwargs

    def redacted_dsn(self) -> str:
        """Safe to log: the password, if any, is replaced by ``***``."""
        suffix = f" password={REDACTED}" if self.db_password is not None else ""
        return self.conninfo() + suffix

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        reader = EnvReader(env)
        s = cls(
            db_host=reader.get("DB_HOST", str, cls.db_host),
            db_port=reader.get("DB_PORT", int_in(1, 65535), cls.db_port),
            db_name=reader.get("DB_NAME", str, cls.db_name),
            db_user=reader.get("DB_USER", str, cls.db_user),
            db_password=_read_password(env),
            db_sslmode=reader.get("DB_SSLMODE", choice(SSL_MODES), cls.db_sslmode),
            db_sslrootcert=reader.get("DB_SSLROOTCERT", str, None),
            db_pool_min_size=reader.get("DB_POOL_MIN_SIZE", int_in(0, 1000), 1),
            db_pool_max_size=reader.get("DB_POOL_MAX_SIZE", int_in(1, 1000), 10),
            db_pool_timeout_seconds=reader.get("DB_POOL_TIMEOUT_SECONDS", float_in(0.1, 60), 2.0),
            db_connect_timeout_seconds=reader.get("DB_CONNECT_TIMEOUT_SECONDS", int_in(1, 60), 3),
            db_reconnect_timeout_seconds=reader.get("DB_RECONNECT_TIMEOUT_SECONDS", float_in(1, 3600), 10.0),
            db_statement_timeout_ms=reader.get("DB_STATEMENT_TIMEOUT_MS", int_in(0, 3600000), 5000),
            host=reader.get("HOST", str, cls.host),
            port=reader.get("PORT", int_in(1, 65535), cls.port),
            log_level=reader.get("LOG_LEVEL", choice(LOG_LEVELS, upper=True), cls.log_level),
            version=reader.get("APP_VERSION", str, cls.version),
            revision=reader.get("APP_REVISION", str, cls.revision),
            migrate_on_start=reader.get("MIGRATE_ON_START", boolean, True),
            shutdown_delay_seconds=reader.get("SHUTDOWN_DELAY_SECONDS", float_in(0, 300), 5.0),
            graceful_shutdown_timeout_seconds=reader.get(
                "GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS", int_in(1, 3600), 20
            ),
        )
        if s.db_pool_min_size > s.db_pool_max_size:
            raise SettingsError("DB_POOL_MIN_SIZE", "must not exceed DB_POOL_MAX_SIZE")
        return s


def _read_password(env: Mapping[str, str]) -> str | None:
    """``DB_PASSWORD_FILE`` (e.g. a Secrets Store CSI mount) wins over ``DB_PASSWORD``."""
    path = env.get("DB_PASSWORD_FILE", "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise SettingsError("DB_PASSWORD_FILE", f"cannot read {path!r}: {reason}") from None
        password = text.removesuffix("\n").removesuffix("\r")
        if not password:
            raise SettingsError("DB_PASSWORD_FILE", f"file {path!r} is empty")
        return password
    return env.get("DB_PASSWORD") or None
