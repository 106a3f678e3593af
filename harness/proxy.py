"""A TCP proxy on 127.0.0.1 that can hold back what clients send by a set delay.

The sandbox puts it between the web app and Postgres: with a delay, each query the app sends waits
before it reaches the server, so the app's own request-duration histogram sees slow requests exactly as
it would with a slow database, and no production code carries a test hook. Replies are not delayed.
When the server is down, each new connection is closed at once (the app sees the database unavailable).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

from harness.postgres import free_port

HOST = "127.0.0.1"


class DelayProxy:
    def __init__(self, upstream_port: int, port: int | None = None, *, upstream_host: str = HOST) -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.port = port or free_port()
        self.delay_seconds = 0.0
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, name=f"proxy-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                server = socket.create_connection((self.upstream_host, self.upstream_port), timeout=5)
            except OSError:
                client.close()  # the server is down: the client sees a refused database
                continue
            server.settimeout(None)
            with self._lock:
                self._connections |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, delayed: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if delayed and self.delay_seconds > 0:
                    time.sleep(self.delay_seconds)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def stop(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread in accept(); close() alone would not
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            self._close(sock)

    def __enter__(self) -> DelayProxy:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
