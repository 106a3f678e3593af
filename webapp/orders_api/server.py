"""uvicorn server with a Kubernetes-friendly SIGTERM sequence.

On the first SIGTERM:
1. readiness flips to 503 at once (``Lifecycle.begin_shutdown``) while the
   server keeps accepting and serving requests for ``shutdown_delay`` seconds,
   so endpoints/load balancers stop routing here before the socket closes
   (the pod's preStop sleep covers most of the propagation; this is a second
   line of defence, e.g. for clients that ignore readiness);
2. then uvicorn's normal graceful shutdown runs: stop accepting, let in-flight
   requests finish (bounded by ``timeout_graceful_shutdown``), run the lifespan
   shutdown (closes the DB pool), and exit with status 0.
A second SIGTERM or a SIGINT skips the remaining delay.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from .lifecycle import Lifecycle
from .settings import Settings


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, shutdown_delay: float) -> None:
        super().__init__(config)
        self.lifecycle = lifecycle
        self.shutdown_delay = shutdown_delay
        self._sigterm_received = False
        self._drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs inside a signal handler: only set flags here, act in on_tick.
        if sig == signal.SIGTERM and not self._sigterm_received and self.shutdown_delay > 0:
            self._sigterm_received = True
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._sigterm_received and self._drain_until is None:
            self.lifecycle.begin_shutdown()
            self._drain_until = time.monotonic() + self.shutdown_delay
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


def run_server(app: Starlette, settings: Settings, lifecycle: Lifecycle) -> bool:
    """Serve until signalled; return False if the server never started."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # JSON logging is configured by the entrypoint
        access_log=False,  # ObservabilityMiddleware writes the access log
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=settings.graceful_shutdown_timeout_seconds,
    )
    server = DrainingServer(config, lifecycle, settings.shutdown_delay_seconds)
    # uvicorn re-raises the handled signal after a graceful shutdown; make that
    # re-raise a no-op so that a clean shutdown exits with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run()
    return server.started
