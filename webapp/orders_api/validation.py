"""Strict parsing of client input into typed values, or an ``ApiError``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

ITEM_MAX_CHARS = 200
QUANTITY_MIN, QUANTITY_MAX = 1, 1000
LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 100, 20
ORDER_FIELDS = ("item", "quantity")
MAX_ID = 2**63 - 1  # Postgres bigint
_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class NewOrder:
    item: str
    quantity: int


def _invalid(code: str, message: str, field: str | None) -> ApiError:
    return ApiError(422, code, message, field)


def parse_new_order(raw: bytes) -> NewOrder:
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, huge ints, deep nesting
        raise ApiError(400, "malformed_json", "request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _invalid("invalid_body", "request body must be a JSON object", None)
    for key in data:
        if key not in ORDER_FIELDS:
            shown = key if len(key) <= 64 else key[:64] + "..."
            message = f"unknown field {shown!r}; allowed fields are: {', '.join(ORDER_FIELDS)}"
            raise _invalid("unknown_field", message, shown)
    for key in ORDER_FIELDS:
        if key not in data:
            raise _invalid("missing_field", f"field '{key}' is required", key)
    return NewOrder(item=_parse_item(data["item"]), quantity=_parse_quantity(data["quantity"]))


def _parse_item(value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid("invalid_type", "field 'item' must be a string", "item")
    if not 1 <= len(value) <= ITEM_MAX_CHARS:
        message = f"field 'item' must be 1 to {ITEM_MAX_CHARS} characters long, got {len(value)}"
        raise _invalid("invalid_length", message, "item")
    if "\x00" in value:
        raise _invalid("invalid_value", "field 'item' must not contain NUL characters", "item")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        message = "field 'item' must not contain unpaired surrogate code points"
        raise _invalid("invalid_value", message, "item") from None
    return value


def _parse_quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("invalid_type", "field 'quantity' must be an integer", "quantity")
    if not QUANTITY_MIN <= value <= QUANTITY_MAX:
        message = f"field 'quantity' must be between {QUANTITY_MIN} and {QUANTITY_MAX}"
        raise _invalid("out_of_range", message, "quantity")
    return value


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    if not _DIGITS.fullmatch(raw):
        raise _invalid("invalid_type", "query parameter 'limit' must be an integer", "limit")
    value = int(raw)
    if not LIMIT_MIN <= value <= LIMIT_MAX:
        message = f"query parameter 'limit' must be between {LIMIT_MIN} and {LIMIT_MAX}"
        raise _invalid("out_of_range", message, "limit")
    return value


def parse_cursor(raw: str | None) -> int | None:
    """Cursors are the opaque ``next_cursor`` values returned by the list endpoint."""
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        message = "query parameter 'cursor' must be a next_cursor value from a previous page"
        raise _invalid("invalid_value", message, "cursor")
    return int(raw)


def parse_order_id(raw: str) -> int | None:
    """The id from the path; ``None`` for a well-formed id that cannot exist."""
    if not re.fullmatch(r"[0-9]+", raw):
        message = "path parameter 'order_id' must be a positive integer"
        raise _invalid("invalid_type", message, "order_id")
    if len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        return None
    return int(raw)
