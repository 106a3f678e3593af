"""A JSON HTTP server on 127.0.0.1 for tests that stand in for a remote API (the verification's and the
cluster probe's fakes): `respond(request) -> (status, body)` answers every GET."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[[BaseHTTPRequestHandler], tuple[int, Any]]


def json_handler(respond: Respond) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = respond(self)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """Serves in a thread; yields the port; shuts down and closes on the way out."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def local_server(respond: Respond) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", 0), json_handler(respond))
