"""A throwaway local PostgreSQL (15 preferred) cluster for tests and benchmarks.

Self-contained (stdlib + psycopg) so that other suites and scripts can import it
by path. ``initdb`` refuses to run as root, so when we are root every server
binary is run as the ``postgres`` OS user via ``runuser`` and the data directory
is chowned to that user. The server listens on 127.0.0.1 only, on a free port,
with its Unix socket in a private directory. Only the cluster started here is
ever stopped (``pg_ctl stop`` on its own data directory).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SUPERUSER = "postgres"


def find_bin_dir() -> Path:
    """``$PG_BIN_DIR``, else Debian's PostgreSQL 15, else the newest Debian install."""
    if os.environ.get("PG_BIN_DIR"):
        return Path(os.environ["PG_BIN_DIR"])
    preferred = Path("/usr/lib/postgresql/15/bin")
    if preferred.is_dir():
        return preferred
    installed = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
    )
    if not installed:
        raise RuntimeError("PostgreSQL server binaries not found: install postgresql or set PG_BIN_DIR")
    return installed[-1].parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPostgres:
    """A private PostgreSQL cluster with password (SCRAM) authentication."""

    def __init__(
        self, base_dir: Path | None = None, port: int | None = None, host: str = "127.0.0.1"
    ) -> None:
        self._own_base = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="localpg-"))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_file = self.base_dir / "postgres.log"
        self.host = host  # any 127.0.0.0/8 address (a simulated pod's IP), 127.0.0.1 by default
        self.port = port or free_port()
        self.superuser_password = "su-" + secrets.token_hex(12)
        self.bin_dir = find_bin_dir()
        self._initialized = False
        self._running = False

    # -- process control -------------------------------------------------
    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SUPERUSER, "--", *argv]
        return argv

    def _run(self, argv: list[str]) -> None:
        # Its own session: the server pg_ctl starts must not get the Ctrl-C meant for the sandbox (which
        # stops it with `pg_ctl stop`, after the processes that use it).
        proc = subprocess.run(
            self._as_owner(argv),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            start_new_session=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SUPERUSER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.socket_dir.chmod(0o700)
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        for path in (self.base_dir, self.socket_dir, pwfile):
            self._chown(path)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "-A", "scram-sha-256",
                f"--pwfile={pwfile}",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )  # fmt: skip
        pwfile.unlink()
        self._initialized = True

    def start(self) -> None:
        if not self._initialized:
            self.init()
        options = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", options,
                "-w", "-t", "60",
                "start",
            ]
        )  # fmt: skip
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            self._running = False

    def cleanup(self) -> None:
        self.stop()
        if self._own_base:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._running

    # -- access ----------------------------------------------------------
    def superuser_connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=self.superuser_password,
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )

    def create_role(self, name: str, password: str) -> None:
        with self.superuser_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )

    def create_database(self, name: str, owner: str) -> None:
        with self.superuser_connect() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
            )

    def dsn(self, dbname: str, user: str = SUPERUSER) -> str:
        """A libpq DSN *without* password (pass the password separately)."""
        return f"host={self.host} port={self.port} dbname={dbname} user={user}"

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
