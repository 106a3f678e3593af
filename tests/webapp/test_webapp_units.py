"""Unit tests: settings from the environment, log formatting and redaction, the
SLO contract module."""

from __future__ import annotations

import ast
import io
import json
import logging
from pathlib import Path

import pytest
from orders_api import slo_contract
from orders_api.logging_config import JsonFormatter
from orders_api.settings import Settings, SettingsError

SECRET = "hunter2-S3cret!"


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.port == slo_contract.APP_PORT == 8080
    assert settings.db_password is None
    assert settings.migrate_on_start is True


def test_all_variables_are_read() -> None:
    env = {
        "DB_HOST": "db.internal",
        "DB_PORT": "6543",
        "DB_NAME": "shop",
        "DB_USER": "svc",
        "DB_PASSWORD": SECRET,
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": "/etc/ssl/rds.pem",
        "DB_POOL_MIN_SIZE": "2",
        "DB_POOL_MAX_SIZE": "20",
        "DB_POOL_TIMEOUT_SECONDS": "1.5",
        "DB_CONNECT_TIMEOUT_SECONDS": "4",
        "DB_RECONNECT_TIMEOUT_SECONDS": "30",
        "DB_STATEMENT_TIMEOUT_MS": "2500",
        "HOST": "127.0.0.1",
        "PORT": "9000",
        "LOG_LEVEL": "debug",
        "APP_VERSION": "1.0.0",
        "APP_REVISION": "abc123",
        "MIGRATE_ON_START": "false",
        "SHUTDOWN_DELAY_SECONDS": "0",
        "GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS": "45",
    }
    s = Settings.from_env(env)
    assert (s.db_host, s.db_port, s.db_name, s.db_user) == ("db.internal", 6543, "shop", "svc")
    assert s.db_password == SECRET
    assert (s.db_sslmode, s.db_sslrootcert) == ("verify-full", "/etc/ssl/rds.pem")
    assert (s.db_pool_min_size, s.db_pool_max_size, s.db_pool_timeout_seconds) == (2, 20, 1.5)
    assert (s.db_connect_timeout_seconds, s.db_reconnect_timeout_seconds) == (4, 30.0)
    assert s.db_statement_timeout_ms == 2500
    assert (s.host, s.port, s.log_level) == ("127.0.0.1", 9000, "DEBUG")
    assert (s.version, s.revision) == ("1.0.0", "abc123")
    assert s.migrate_on_start is False
    assert (s.shutdown_delay_seconds, s.graceful_shutdown_timeout_seconds) == (0.0, 45)
    kwargs = s.connect_kwargs()
    assert kwargs["password"] == SECRET
    assert kwargs["options"] == "-c statement_timeout=2500"
    assert SECRET not in s.conninfo()
    assert "sslrootcert=/etc/ssl/rds.pem" in s.conninfo()


def test_password_file_wins_over_variable(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    s = Settings.from_env({"DB_PASSWORD_FILE": str(path), "DB_PASSWORD": "from-env"})
    assert s.db_password == "from-file"  # trailing newline stripped, nothing else


def test_password_file_keeps_inner_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(" a b ")
    assert Settings.from_env({"DB_PASSWORD_FILE": str(path)}).db_password == " a b "


@pytest.mark.parametrize(
    ("env", "var", "rule"),
    [
        ({"DB_PORT": "abc"}, "DB_PORT", "between 1 and 65535"),
        ({"DB_PORT": "70000"}, "DB_PORT", "between 1 and 65535"),
        ({"PORT": "8080.5"}, "PORT", "integer"),
        ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE", "between 1 and 1000"),
        ({"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "2"}, "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE"),
        ({"DB_POOL_TIMEOUT_SECONDS": "soon"}, "DB_POOL_TIMEOUT_SECONDS", "number"),
        ({"DB_POOL_TIMEOUT_SECONDS": "nan"}, "DB_POOL_TIMEOUT_SECONDS", "number"),
        ({"SHUTDOWN_DELAY_SECONDS": "-1"}, "SHUTDOWN_DELAY_SECONDS", "between 0 and 300"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "one of"),
        ({"DB_SSLMODE": "maybe"}, "DB_SSLMODE", "verify-full"),
        ({"MIGRATE_ON_START": "perhaps"}, "MIGRATE_ON_START", "boolean"),
        ({"DB_PASSWORD_FILE": "/nonexistent/pw"}, "DB_PASSWORD_FILE", "cannot read"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], var: str, rule: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert info.value.env_var == var
    assert str(info.value).startswith(f"{var}: ")
    assert rule in str(info.value)


def test_empty_password_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("\n")
    with pytest.raises(SettingsError, match=r"DB_PASSWORD_FILE: .* is empty"):
        Settings.from_env({"DB_PASSWORD_FILE": str(path)})


def test_password_is_not_in_repr_or_redacted_dsn() -> None:
    s = Settings(db_password=SECRET)
    assert SECRET not in repr(s)
    assert SECRET not in str(s)
    assert SECRET not in s.redacted_dsn()
    assert s.redacted_dsn().endswith(" password=***")
    assert "password" not in Settings().redacted_dsn()


def _log_through(formatter: JsonFormatter, *args: object, **kwargs: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("test.jsonlog")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(*args, **kwargs)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert output.count("\n") == 1
    parsed: dict[str, object] = json.loads(output)
    return parsed


def test_json_formatter_fields_and_extras() -> None:
    line = _log_through(JsonFormatter(), "hello %s", "world", extra={"route": "/orders", "status": 201})
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "test.jsonlog"
    assert str(line["ts"]).endswith("+00:00")
    assert (line["route"], line["status"]) == ("/orders", 201)


def test_json_formatter_scrubs_secrets_everywhere() -> None:
    formatter = JsonFormatter(secrets=[SECRET])
    try:
        raise RuntimeError(f"connect failed with password={SECRET}")
    except RuntimeError:
        line = _log_through(
            formatter,
            "dsn %s",
            f"user=x password={SECRET}",
            exc_info=True,
            extra={"error": f"auth {SECRET}", "nested": {"list": [SECRET]}},
        )
    text = json.dumps(line)
    assert SECRET not in text
    assert line["message"] == "dsn user=x password=***"
    assert line["error"] == "auth ***"
    assert "password=***" in str(line["exception"])


def test_slo_contract_has_no_third_party_imports() -> None:
    source = Path(slo_contract.__file__).read_text()
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__"}


def test_slo_contract_invariants() -> None:
    assert slo_contract.LATENCY_SLO_THRESHOLD_SECONDS in slo_contract.REQUEST_DURATION_BUCKETS
    assert float(slo_contract.LATENCY_SLO_THRESHOLD_LE) == slo_contract.LATENCY_SLO_THRESHOLD_SECONDS
    names = slo_contract.EXPOSED_METRIC_NAMES
    assert len(set(names)) == len(names)
    assert slo_contract.HTTP_REQUESTS_TOTAL in names
    assert slo_contract.HTTP_REQUEST_DURATION_SECONDS + "_bucket" in slo_contract.EXPOSED_SERIES_NAMES
    assert slo_contract.METRICS_PATH in slo_contract.NON_SLI_PATHS
