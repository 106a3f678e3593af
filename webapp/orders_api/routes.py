"""HTTP endpoints: the orders API plus /healthz, /readyz and /metrics."""

from __future__ import annotations

import logging

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import slo_contract, validation
from .db import DatabaseUnavailableError, OrderStore
from .errors import ApiError, error_response
from .lifecycle import Lifecycle
from .metrics import Metrics
from .migrations import LATEST_VERSION

logger = logging.getLogger("orders_api.routes")
MAX_BODY_BYTES = 16 * 1024
READINESS_DB_TIMEOUT_SECONDS = 1.0  # at most; the pool timeout if lower


async def read_json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """Reject non-JSON content types (415) and oversize bodies (413) without
    buffering more than ``max_bytes`` (the declared length is checked first)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        message = "Content-Type must be application/json"
        raise ApiError(415, "unsupported_media_type", message, "content-type")
    too_large = ApiError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def handle_db_unavailable(_request: Request, exc: Exception) -> Response:
    logger.warning("database unavailable", extra={"error": str(exc)})
    message = "the database is temporarily unavailable, retry later"
    return error_response(503, "database_unavailable", message, None, {"Retry-After": "1"})


def build_routes(store: OrderStore, lifecycle: Lifecycle, metrics: Metrics, db_timeout: float) -> list[Route]:
    readiness_timeout = min(db_timeout, READINESS_DB_TIMEOUT_SECONDS)

    async def orders_collection(request: Request) -> Response:
        if request.method == "POST":
            new = validation.parse_new_order(await read_json_body(request))
            order = await store.create(new.item, new.quantity)
            headers = {"Location": f"/orders/{order.id}"}
            return JSONResponse(order.to_json(), status_code=201, headers=headers)
        limit = validation.parse_limit(request.query_params.get("limit"))
        cursor = validation.parse_cursor(request.query_params.get("cursor"))
        orders, next_cursor = await store.list(limit, cursor)
        return JSONResponse(
            {
                "items": [o.to_json() for o in orders],
                "next_cursor": None if next_cursor is None else str(next_cursor),
            }
        )

    async def order_detail(request: Request) -> Response:
        order_id = validation.parse_order_id(request.path_params["order_id"])
        order = await store.get(order_id) if order_id is not None else None
        if order is None:
            raise ApiError(404, "order_not_found", "no order with this id", "order_id")
        return JSONResponse(order.to_json())

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        if lifecycle.shutting_down:
            return JSONResponse({"status": "shutting_down"}, status_code=503)
        try:
            version = await store.schema_version(timeout=readiness_timeout)
        except (DatabaseUnavailableError, psycopg.Error):
            return JSONResponse({"status": "database_unavailable"}, status_code=503)
        body = {"schema_version": version, "required_schema_version": LATEST_VERSION}
        if version < LATEST_VERSION:
            return JSONResponse({"status": "schema_not_migrated", **body}, status_code=503)
        return JSONResponse({"status": "ready", **body})

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/orders", orders_collection, methods=["GET", "POST"]),
        Route("/orders/{order_id}", order_detail, methods=["GET"]),
        Route(slo_contract.HEALTHZ_PATH, healthz, methods=["GET"]),
        Route(slo_contract.READYZ_PATH, readyz, methods=["GET"]),
        Route(slo_contract.METRICS_PATH, metrics_endpoint, methods=["GET"]),
    ]
