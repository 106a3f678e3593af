"""Fixtures for the Grafana provisioner: a fake Grafana over HTTP on 127.0.0.1 and stubbed AWS clients."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

# The Lambda runs with its own folder as the import root: the tests import its modules the same way. This
# folder goes on the path too, for the fakes (`tests.lambda` cannot be imported by name: a keyword).
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "lambda" / "grafana_provisioner"), str(HERE)]

import grafana_api  # noqa: E402
import handler  # noqa: E402
import health  # noqa: E402
from provisioner_fakes import Aws, FakeClock, FakeGrafana, request_handler  # noqa: E402


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(handler, "CLOCK", fake)
    monkeypatch.setattr(health, "CLOCK", fake)
    return fake


@pytest.fixture
def fake_grafana(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGrafana]:
    fake = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", 0), request_handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    # Only here is the scheme plain HTTP: production keeps grafana_api.SCHEME = "https".
    monkeypatch.setattr(grafana_api, "SCHEME", "http")
    monkeypatch.setattr(grafana_api, "BACKOFF_FACTOR", 0.01)
    fake.endpoint = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Aws]:
    stubbed = Aws()
    monkeypatch.setattr(handler, "aws_clients", lambda region: (stubbed.grafana, stubbed.s3))
    monkeypatch.setattr(health, "grafana_client", lambda region: stubbed.grafana)
    monkeypatch.setattr(health, "s3_client", lambda region: stubbed.s3)
    with stubbed.grafana_stub, stubbed.s3_stub:
        yield stubbed
