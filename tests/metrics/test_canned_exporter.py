"""The canned exporter stops quietly when a scraper hangs up mid-response: an agent stopped during a scrape
(`scripts/cost.py` stops its agents while the canned node-exporter serves them) is normal shutdown, not an
error to print."""

from __future__ import annotations

import socket
import struct

import pytest

from harness.stack import HOST, CannedExporter

# Far larger than the loopback socket buffers: the exporter is still writing when the scraper hangs up.
PAGE = b"# a metric page\n" * 4_000_000  # 64 MB


def _hang_up_mid_response(port: int, *, reset: bool) -> bytes:
    """GET /metrics, read the first bytes of the answer, then close the connection (as a process that
    exits while reading does): with `reset`, at once with a TCP reset, else with a normal close."""
    with socket.create_connection((HOST, port), timeout=10) as client:
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n")
        first = client.recv(16)
        if reset:  # linger on, zero seconds: close sends a reset
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return first


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "close"])
def test_a_scraper_hanging_up_mid_response_prints_nothing(
    capfd: pytest.CaptureFixture[str], reset: bool
) -> None:
    with CannedExporter(default=PAGE) as canned:
        assert _hang_up_mid_response(canned.port, reset=reset).startswith(b"HTTP/1.0 200")
    # Leaving the block waited for the request's handler: whatever it printed is printed by now.
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_pages_are_still_served_whole() -> None:
    page = b"up 1\n"
    with (
        CannedExporter(pages={"/metrics": page}) as canned,
        socket.create_connection((HOST, canned.port)) as client,
    ):
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: exporter\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200")
    assert answer.endswith(b"\r\n\r\nup 1\n")
