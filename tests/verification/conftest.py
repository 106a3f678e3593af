"""Fixtures: the local AMP server, the stubbed control planes, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.verification.fakes import Aws, FakeClock, FakeServer, serving


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serving(FakeServer()) as fake:
        yield fake


@pytest.fixture
def aws(server: FakeServer) -> Iterator[Aws]:
    stubbed = Aws(server)
    with stubbed.amp_stub, stubbed.lambda_stub, stubbed.cloudwatch_stub, stubbed.logs_stub:
        yield stubbed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
