"""The parts every local pipeline shares: processes stopped by PID, Prometheus as agent and receiver, the
real exporters and the orders API as processes, and the variants of the generated agent configuration the
local runs use (`for_local_receiver`, `without_keep_lists`, `with_cluster_label`). The pipeline itself runs
on the simulated cluster, with the agent's real Kubernetes discovery: harness/cluster_stack.py.

Every process listens on 127.0.0.0/8, is started here and stopped here, by its own PID.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from harness.postgres import free_port
from k8s.monitoring.node_exporter_chart import ARGS as NODE_EXPORTER_CHART_ARGS
from k8s.monitoring.prometheus_agent_chart import SHUTDOWN_FLUSH_SECONDS
from observability import names
from observability.jobs import ScrapeJob
from observability.render import scrape_config

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
# Prometheus and its promtool at the cluster's release (k8s/images.py's tag), built by `make go-tools`
# (scripts/go-tools.sh): the agent, the AMP stand-in and every rule test run the PromQL the cluster's
# release runs (3's range windows exclude their start; Debian's 2.42 includes it).
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", str(VENV_BIN / "prometheus"))
PROMTOOL = Path(os.environ.get("PROMTOOL_BIN", str(VENV_BIN / "promtool3")))
NODE_EXPORTER = os.environ.get("NODE_EXPORTER_BIN", "/usr/bin/prometheus-node-exporter")
POSTGRES_EXPORTER = os.environ.get("POSTGRES_EXPORTER_BIN", "/usr/bin/prometheus-postgres-exporter")
HOST = "127.0.0.1"
APP_ROLE = "orders_app"
APP_PASSWORD = "metrics-" + "test-pw-3x4mple"
APP_DATABASE = names.POSTGRES_DATABASE


def wait_until(predicate: Callable[[], bool], attempts: int = 300, interval: float = 0.1) -> bool:
    """Bounded polling: True as soon as predicate() holds, False after all attempts."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(interval)
    return False


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


# --- config variants ---------------------------------------------------------------------------------
# The AMP URL of the generated configs the local runs use; `for_local_receiver` replaces it.
PLACEHOLDER_WORKSPACE_URL = (
    "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-local/api/v1/remote_write"
)


def generated_config(
    *,
    cluster_name: str,
    scrape_interval_seconds: int,
    environment: str = "test",
    jobs: Sequence[ScrapeJob] | None = None,
    shard: int = 0,
    shards: int = 1,
) -> dict[str, Any]:
    """The agent configuration exactly as the cluster would get it (shard `shard` of `shards`), for a local
    run to adapt: with `jobs` (rendered by `observability.render.render`), else those of services/."""
    return scrape_config.agent_config(
        cluster_name=cluster_name,
        environment=environment,
        region="us-east-1",
        remote_write_url=PLACEHOLDER_WORKSPACE_URL,
        scrape_interval_seconds=scrape_interval_seconds,
        jobs=jobs,
        shard=shard,
        shards=shards,
    )


def for_local_receiver(config: Mapping[str, Any], url: str) -> dict[str, Any]:
    """The config shipping to a plain Prometheus receiver: same queue settings, no SigV4 (AMP's
    authentication, which needs AWS credentials), `url` instead of the workspace's."""
    result = copy.deepcopy(dict(config))
    for remote in result["remote_write"]:
        remote.pop("sigv4", None)
        remote["url"] = url
    return result


def without_keep_lists(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with no metric_relabel_configs: every scraped series is kept (cost comparison)."""
    result = copy.deepcopy(dict(config))
    for job in result["scrape_configs"]:
        job.pop("metric_relabel_configs", None)
        job.pop("sample_limit", None)  # sized for the kept set, it would fail the unfiltered scrapes
    return result


def with_cluster_label(config: Mapping[str, Any], cluster: str) -> dict[str, Any]:
    result = copy.deepcopy(dict(config))
    result["global"]["external_labels"]["cluster"] = cluster
    return result


# --- processes -----------------------------------------------------------------------------------------
class Process:
    """A child process with its output in a log file; stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(
        self, name: str, argv: list[str], log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name, self.argv, self.log_path = name, argv, log_path
        self.env = dict(env) if env is not None else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                # Its own process group: a Ctrl-C meant for the sandbox does not reach it, so the
                # sandbox stops its processes itself, in order (the agent before the receiver).
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def stop(self, timeout: float = 90) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def rss_kib(self) -> int:
        """Resident memory now (VmRSS from /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, check: Callable[[], bool], attempts: int = 300) -> None:
        if not wait_until(lambda: check() or not self.running, attempts=attempts):
            raise RuntimeError(f"{self.name} not ready; log:\n{self.log()[-3000:]}")
        if not self.running:
            raise RuntimeError(
                f"{self.name} exited ({self.proc and self.proc.returncode}); log:\n{self.log()[-3000:]}"
            )


class Prometheus(Process):
    """`prometheus` (the cluster's release) as the agent (`--agent`) or as the remote-write receiver."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        port: int,
        env: Mapping[str, str] | None = None,
        host: str = HOST,
    ) -> None:
        super().__init__(name, argv, log_path, env)
        self.port = port
        self.url = f"http://{host}:{port}"

    @classmethod
    def receiver(
        cls,
        workdir: Path,
        port: int | None = None,
        rule_files: Mapping[str, Mapping[str, Any]] | None = None,
        evaluation_interval_seconds: int = 60,
        alertmanager: str | None = None,
        *,
        binary: str = PROMETHEUS,
    ) -> Prometheus:
        """A plain Prometheus that accepts remote writes and answers queries; with `rule_files` (name ->
        rules document) it also evaluates them every `evaluation_interval_seconds`, as AMP's ruler does,
        and with `alertmanager` (host:port) sends the alerts there, as AMP's ruler sends them to AMP's
        Alertmanager. The cluster's release by default, or `binary`."""
        workdir.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        if rule_files:
            paths = []
            for name, document in rule_files.items():
                path = workdir / f"{name}.rules.yml"
                path.write_text(yaml.safe_dump(dict(document), sort_keys=False))
                paths.append(str(path))
            config["global"] = {"evaluation_interval": f"{evaluation_interval_seconds}s"}
            config["rule_files"] = paths
        config_path = workdir / "receiver.yml"
        config_path.write_text(yaml.safe_dump(config))
        port = port or free_port()
        argv = [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address={HOST}:{port}",
            "--web.enable-remote-write-receiver",
            "--storage.tsdb.retention.time=1d",
        ]
        return cls("receiver", argv, workdir / "receiver.log", port)

    @classmethod
    def agent(
        cls,
        workdir: Path,
        config_text: str,
        port: int | None = None,
        name: str = "agent",
        replica: int = 0,
        *,
        binary: str = PROMETHEUS,
        host: str = HOST,
    ) -> Prometheus:
        """An agent on `config_text`, as replica `replica` of its shard (the pod ordinal the chart puts in
        its environment, which the config expands into the `__replica__` external label; Prometheus 3
        expands external labels by default), listening on `host`:`port`. The cluster's release by default
        (with Kubernetes discovery), or `binary`."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "agent.yml"
        config.write_text(config_text)
        port = port or free_port()
        argv = [
            binary,
            "--agent",  # as the chart runs it
            f"--config.file={config}",
            f"--storage.agent.path={workdir / 'wal'}",
            f"--web.listen-address={host}:{port}",
            f"--storage.remote.flush-deadline={SHUTDOWN_FLUSH_SECONDS}s",  # as in the chart
        ]
        env = dict(os.environ) | {names.AGENT_REPLICA_ENV: str(replica)}
        return cls(name, argv, workdir / "agent.log", port, env, host)

    def start_ready(self) -> None:
        self.start()
        self.wait_ready(lambda: http_ok(f"{self.url}/-/ready"))

    @property
    def remote_write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def _get(self, path: str, params: Mapping[str, str | float] | None = None) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, str | float] = {"query": promql}
        if at is not None:
            params["time"] = at
        result: list[dict[str, Any]] = self._get("/api/v1/query", params)["result"]
        return result

    def series(self, match: str, start: float | None = None) -> list[dict[str, str]]:
        params: dict[str, str | float] = {"match[]": match}
        if start is not None:
            params["start"] = start
        result: list[dict[str, str]] = self._get("/api/v1/series", params)
        return result

    def metric_names(self) -> list[str]:
        result: list[str] = self._get("/api/v1/label/__name__/values")
        return result

    def targets(self) -> dict[str, list[dict[str, Any]]]:
        """The agent's targets: `activeTargets` and `droppedTargets` (served in agent mode too)."""
        result: dict[str, list[dict[str, Any]]] = self._get("/api/v1/targets")
        return result

    def own_metric(self, name: str) -> float:
        """Sum of one of Prometheus's own counters/gauges from its /metrics page."""
        total, found = 0.0, False
        for line in httpx.get(f"{self.url}/metrics", timeout=10).text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
                found = True
        if not found:
            raise KeyError(name)
        return total


class _ScrapedServer(ThreadingHTTPServer):
    """Closing waits for the answers in flight (non-daemon request threads, joined by `server_close`), and
    a scraper hanging up mid-answer is not an error: an agent stopped during a scrape closes its
    connections (BrokenPipeError or ConnectionResetError here), and that is a normal shutdown."""

    daemon_threads = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class CannedExporter:
    """Serves fixed expositions on `host` (127.0.0.1) at `port` (a free one): `pages` by path, `default`
    for any other path (else 404). Stands in for exporters that cannot run here, or for many targets at
    the price of one."""

    def __init__(
        self,
        pages: Mapping[str, bytes] | None = None,
        default: bytes | None = None,
        *,
        host: str = HOST,
        port: int | None = None,
    ) -> None:
        known = dict(pages or {})

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # seconds a connection may stay silent: closing never waits on an idle one

            def do_GET(self) -> None:
                body = known.get(self.path, default)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.port = port or free_port()
        self.address = f"{host}:{self.port}"
        self.server = _ScrapedServer((host, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CannedExporter:
        self.thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def node_exporter(
    workdir: Path, port: int | None = None, *, host: str = HOST, name: str = "node-exporter"
) -> Process:
    """The real node-exporter, default collectors, with the chart's device/mount filters (which shape
    the series count); its host paths stay at this machine's /proc, /sys and /."""
    port = port or free_port()
    filters = [a for a in NODE_EXPORTER_CHART_ARGS if not a.startswith(("--path.", "--web."))]
    argv = [NODE_EXPORTER, f"--web.listen-address={host}:{port}", *filters]
    return Process(name, argv, workdir / f"{name}.log")


def orders_api(
    workdir: Path, *, listen: tuple[str, int], database: tuple[str, int], password_file: Path
) -> Process:
    """The real orders API on `listen` (host, port), connecting to Postgres at `database` as the app's role
    with the password from `password_file`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "APP_"))} | {
        "PYTHONPATH": str(REPO / "webapp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DB_HOST": database[0],
        "DB_PORT": str(database[1]),
        "DB_NAME": APP_DATABASE,
        "DB_USER": APP_ROLE,
        "DB_PASSWORD_FILE": str(password_file),
        "DB_SSLMODE": "disable",
        "HOST": listen[0],
        "PORT": str(listen[1]),
        "SHUTDOWN_DELAY_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "APP_VERSION": "test",
    }
    return Process("orders-api", [sys.executable, "-m", "orders_api"], workdir / "app.log", env)


def postgres_exporter(workdir: Path, *, listen: str, database: str, password_file: Path) -> Process:
    """The real postgres-exporter on `listen` (host:port). As in the Postgres pod: it connects to
    `database` (host:port) as the app's user, password from a file."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATA_SOURCE_URI": f"{database}/{APP_DATABASE}?sslmode=disable",
        "DATA_SOURCE_USER": APP_ROLE,
        "DATA_SOURCE_PASS_FILE": str(password_file),
    }
    argv = [POSTGRES_EXPORTER, f"--web.listen-address={listen}"]
    return Process("postgres-exporter", argv, workdir / "postgres-exporter.log", env)
