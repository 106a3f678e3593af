"""The latency fault: a TCP proxy between the app and Postgres that holds back what the client sends."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from harness.postgres import free_port
from harness.proxy import DelayProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def round_trip(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"SELECT 1")
        assert sock.recv(100) == b"SELECT 1"


def test_the_delay_applies_to_what_the_client_sends_and_can_be_removed(echo_port, monkeypatch):
    """The proxy waits (recorded here, not slept) before forwarding what the client sends, never before a
    reply, and not at all without a delay."""
    sleeps: list[float] = []
    monkeypatch.setattr("harness.proxy.time.sleep", sleeps.append)
    with DelayProxy(echo_port) as proxy:
        round_trip(proxy.port)
        assert sleeps == []
        proxy.delay_seconds = 0.3
        round_trip(proxy.port)
        assert sleeps == [0.3]  # the query, not the echoed reply
        proxy.delay_seconds = 0
        round_trip(proxy.port)
        assert sleeps == [0.3]


def test_a_stopped_server_closes_new_connections_at_once():
    with (
        DelayProxy(free_port()) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        assert sock.recv(10) == b""  # closed, not left hanging


def test_stop_closes_the_open_connections(echo_port):
    proxy = DelayProxy(echo_port)
    proxy.start()
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    round_trip(proxy.port)
    time.sleep(0.1)
    proxy.stop()
    assert sock.recv(10) == b""
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1)
