"""Fixtures: the local AMP/Grafana server, the stubbed control planes, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.verification import grafana
from tests.verification.fakes import Aws, FakeClock, FakeServer, serving


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    # Only here is Grafana plain HTTP: the provisioner's client keeps SCHEME = "https" in production.
    monkeypatch.setattr(grafana.grafana_api, "SCHEME", "http")
    monkeypatch.setattr(grafana.grafana_api, "BACKOFF_FACTOR", 0.01)
    with serving(FakeServer()) as fake:
        yield fake


@pytest.fixture
def aws(server: FakeServer) -> Iterator[Aws]:
    stubbed = Aws(server)
    with (
        stubbed.amp_stub,
        stubbed.grafana_stub,
        stubbed.lambda_stub,
        stubbed.cloudwatch_stub,
        stubbed.logs_stub,
    ):
        yield stubbed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
