"""ASGI middleware: request metrics (by route template) and one access-log line per request."""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import slo_contract
from .errors import error_response
from .metrics import Metrics

access_log = logging.getLogger("orders_api.access")
error_log = logging.getLogger("orders_api.errors")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's path template, never the raw path (bounded cardinality)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else slo_contract.UNMATCHED_ROUTE


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        status = 500  # if the app raises before sending a response
        started = False

        async def send_and_record(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception:
            if started:  # too late for an error response; uvicorn closes the connection
                raise
            # Answer here rather than re-raising: a re-raised error makes uvicorn
            # drop the keep-alive connection, which clients see as a reset.
            error_log.exception("unhandled error", extra={"method": scope["method"]})
            message = "internal server error"
            await error_response(500, "internal_error", message)(scope, receive, send)
        finally:
            elapsed = perf_counter() - start
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
            route = route_template(scope)
            probe = route in slo_contract.NON_SLI_PATHS
            if not probe:
                self.metrics.observe_request(method, route, status, elapsed)
            access_log.log(
                logging.DEBUG if probe else logging.INFO,
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
