"""The one JSON error shape: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    """A client-visible error with a stable machine-readable ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def handle_http_exception(_request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route / wrong method) as JSON errors."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, str(exc.detail), None, headers)


async def handle_unexpected(_request: Request, _exc: Exception) -> Response:
    # Fallback for errors outside ObservabilityMiddleware (which answers the
    # others itself); Starlette re-raises afterwards and uvicorn logs it.
    return error_response(500, "internal_error", "internal server error")
