"""The load is open-loop: requests arrive at the set rate however slowly the app answers, with a bound on
the requests in flight. Checked against a local HTTP server that answers every request after 0.8 s (the
added latency of `make fault FAULT=add-latency MS=800`), by counting the requests it receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.load import Load

ANSWER_SECONDS = 0.8
RATE = 10.0  # requests/s: the sandbox's load


class SlowServer:
    """Answers `GET /orders` with 200 after `ANSWER_SECONDS`; records when each request arrived and the
    most requests it held open at once."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.open = 0
        self.peak_open = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    owner.arrivals.append(time.monotonic())
                    owner.open += 1
                    owner.peak_open = max(owner.peak_open, owner.open)
                try:
                    time.sleep(ANSWER_SECONDS)
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                finally:
                    with lock:
                        owner.open -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def received_between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.arrivals)


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    server = SlowServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def measure(server: SlowServer, load: Load, seconds: float) -> tuple[int, float]:
    """Requests the server received over `seconds` of steady state (after the first answers came back)."""
    with load:
        time.sleep(2 * ANSWER_SECONDS)
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
    return server.received_between(start, end), end - start


def test_slow_answers_do_not_slow_the_arrivals(slow_server):
    load = Load(slow_server.url, per_second=RATE)
    received, elapsed = measure(slow_server, load, 6)
    expected = RATE * elapsed
    # One request back to back would deliver 1 / 0.8 s = 1.25/s here (7 or 8 requests). The arrivals keep
    # their schedule (a late tick is sent at once), so only the two ends of the interval may cut one off.
    assert expected - 3 <= received <= expected + 3, (received, elapsed)
    assert load.skipped == 0
    assert load.statuses == {200: sum(load.statuses.values())}
    assert slow_server.peak_open <= load.max_in_flight


def test_requests_in_flight_never_exceed_the_bound(slow_server):
    bound = 4  # below the 8 requests that 10/s answered after 0.8 s keep open
    load = Load(slow_server.url, per_second=RATE, max_in_flight=bound)
    received, elapsed = measure(slow_server, load, 4)
    assert slow_server.peak_open <= bound
    assert load.peak_in_flight <= bound
    # Arrivals that found the bound reached were counted, not queued: fewer sent than scheduled.
    assert load.skipped > 0
    assert received < RATE * elapsed - 3


def test_the_default_bound_covers_every_request_until_its_timeout():
    assert Load("http://127.0.0.1:9", per_second=10, timeout=5).max_in_flight == 50
