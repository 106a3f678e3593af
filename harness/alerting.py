"""The alerting end of the path, locally: an Alertmanager running the GENERATED routing
(observability/alertmanager.py) and a sink that records the notifications it sends.

    receiver (AMP stand-in, generated rules) ──alerts──▶ Alertmanager ──webhooks──▶ NotificationSink

One explicit substitution (`with_webhook_receivers`, tested): AMP's only receiver type is SNS, which
needs AWS, so each `sns_configs` entry becomes a `webhook_configs` entry to the sink, keeping its
`send_resolved`. Routes, grouping, timers, inhibition and templates stay as generated.

The Alertmanager is the binary of Debian's `prometheus-alertmanager` (0.25), unpacked (never installed, so
no service is enabled) by scripts/system-packages.sh; docs/decisions/alertmanager-debian.md says why not a
newer build. Debian's build reads its default notification
templates from /usr/share/prometheus/alertmanager/, which that script provides.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

from config.alerting import AlertingConfig
from harness.postgres import free_port
from harness.stack import HOST, REPO, Process, http_ok
from observability import alertmanager

UNPACKED = REPO / ".venv/opt/prometheus-alertmanager"
ALERTMANAGER = os.environ.get("ALERTMANAGER_BIN", str(UNPACKED / "usr/bin/prometheus-alertmanager"))
# Debian ships no web UI (only a page pointing at amtool); the API answers under /api/v2.
NO_UI = UNPACKED / "usr/share/prometheus/alertmanager/no-ui"
LOCAL_REGION = "us-east-1"
LOCAL_TOPICS = alertmanager.Topics(
    page=f"arn:aws:sns:{LOCAL_REGION}:111111111111:page",
    ticket=f"arn:aws:sns:{LOCAL_REGION}:111111111111:ticket",
    watchdog=f"arn:aws:sns:{LOCAL_REGION}:111111111111:watchdog",
)


def local_topics(teams: Sequence[str]) -> alertmanager.Topics:
    """Placeholder topics: the platform's, and each team's own page and ticket topics."""
    arn = f"arn:aws:sns:{LOCAL_REGION}:111111111111"
    return dataclasses.replace(
        LOCAL_TOPICS,
        teams={
            team: alertmanager.TeamTopics(page=f"{arn}:{team}-page", ticket=f"{arn}:{team}-ticket")
            for team in teams
        },
    )


def generated_config(alerting: AlertingConfig | None = None, *, teams: Sequence[str] = ()) -> dict[str, Any]:
    """The Alertmanager configuration exactly as AMP would get it (placeholder topics), with a route and
    receivers of their own for each of `teams` (`Artifacts.teams` of `observability.render.render`)."""
    return alertmanager.alertmanager_config(
        alerting=alerting or AlertingConfig(), region=LOCAL_REGION, topics=local_topics(teams)
    )


def with_webhook_receivers(config: Mapping[str, Any], sink_url: str) -> dict[str, Any]:
    """The config with every SNS receiver config swapped for a webhook to `<sink_url>/<receiver>`
    (numbered when a receiver has several), with the same `send_resolved`. Nothing else changes."""
    result = copy.deepcopy(dict(config))
    for receiver in result["receivers"]:
        sns = receiver.pop("sns_configs", [])
        receiver["webhook_configs"] = [
            {
                "url": f"{sink_url.rstrip('/')}/{receiver['name']}" + (f"/{i}" if i else ""),
                "send_resolved": entry.get("send_resolved", True),
            }
            for i, entry in enumerate(sns)
        ]
    return result


class Alertmanager(Process):
    """Alertmanager on 127.0.0.1 with `config` and AMP's template files, single node (no gossip port)."""

    def __init__(self, workdir: Path, config: Mapping[str, Any], port: int | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
        # `templates` names files relative to the config file, as AMP's `template_files` keys.
        (workdir / alertmanager.TEMPLATE).write_text(alertmanager.TEMPLATES)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        argv = [
            ALERTMANAGER,
            f"--config.file={config_path}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
            "--cluster.listen-address=",
            f"--web.ui-path={NO_UI}/",
        ]
        super().__init__("alertmanager", argv, workdir / "alertmanager.log")

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start_ready(self) -> None:
        self.start()
        self.wait_ready(lambda: http_ok(f"{self.url}/-/ready"))

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds now (API v2), with their status (active, suppressed)."""
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json()
        return result


class NotificationSink:
    """Records every webhook notification POSTed to it: `(receiver path, received_at, payload)`, also
    appended to `log_path` (JSON lines) when given. `GET /` lists them, newest last."""

    def __init__(self, log_path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sink._record(self.path.strip("/"), json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                body = json.dumps(sink.notifications(), indent=2).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="sink", daemon=True)

    def _record(self, receiver: str, payload: dict[str, Any]) -> None:
        entry = {"receiver": receiver, "received_at": time.time(), "payload": payload}
        with self._lock:
            self._received.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a") as log:
                    log.write(json.dumps(entry) + "\n")

    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._received)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


def alerts_in(notification: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The alerts a recorded webhook notification carries (each with `status` and `labels`)."""
    alerts: list[dict[str, Any]] = notification["payload"].get("alerts", [])
    return alerts
