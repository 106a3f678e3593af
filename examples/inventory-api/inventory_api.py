"""The inventory API: a small example service owned by the warehouse team, which the sandbox runs beside the
orders API (`make local`). Standard library HTTP server plus prometheus_client; no database.

    GET /stock/<sku>   200 {"sku": ..., "quantity": n} from the stock file, 404 for an unknown SKU,
                       503 when the stock file cannot be read (its volume is gone)
    GET /healthz       200 while the process answers (liveness and readiness)
    GET /metrics       http_requests_total{method, route, code} and
                       http_request_duration_seconds{method, route}, of the stock route only; and the
                       client library's process_* and python_* series

The stock file (JSON: SKU -> quantity) is read at every request: in the cluster it is a ConfigMap mounted
at /etc/inventory, which Kubernetes updates in place. Stop it with SIGTERM or SIGINT.

    python inventory_api.py --stock-file stock.json [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

STOCK_ROUTE = "/stock/{sku}"  # the route label: a template, never the SKU itself (one series per route)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """The service's own series, and the client library's process and runtime ones (which its service file
    does not keep: they never leave the cluster)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.requests = Counter(
            "http_requests", "Stock requests answered.", ("method", "route", "code"), registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Stock request latency.",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self.registry,
        )


def stock_level(stock_file: Path, sku: str) -> tuple[int, dict[str, object]]:
    """The HTTP status and body for one SKU, read from the stock file now."""
    try:
        levels = json.loads(stock_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return 503, {"error": f"stock data unavailable ({type(error).__name__})"}
    if sku not in levels:
        return 404, {"error": f"unknown SKU {sku!r}"}
    return 200, {"sku": sku, "quantity": levels[sku]}


def handler(stock_file: Path, metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._send(200, b"ok\n", "text/plain")
            elif self.path.startswith("/stock/"):
                started = time.perf_counter()
                status, body = stock_level(stock_file, self.path.removeprefix("/stock/"))
                self._send(status, json.dumps(body).encode(), "application/json")
                metrics.requests.labels("GET", STOCK_ROUTE, str(status)).inc()
                metrics.duration.labels("GET", STOCK_ROUTE).observe(time.perf_counter() - started)
            else:
                self._send(404, b'{"error": "not found"}', "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per request would be most of the output; the counters say it all

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stock-file", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), handler(args.stock_file, Metrics()))

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return: call it from another thread than the one serving.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
