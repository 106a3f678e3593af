"""Every kind of bad input gets a 4xx with the JSON error shape naming the field and
rule, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

JSON = {"content-type": "application/json"}


def assert_error(response: httpx.Response, status: int, code: str, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"] == code
    assert error["field"] == field
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(b"{", 400, "malformed_json", None, id="truncated-json"),
        pytest.param(b"", 400, "malformed_json", None, id="empty-body"),
        pytest.param(b"item=x&quantity=1", 400, "malformed_json", None, id="form-encoded"),
        pytest.param(b'{"item": "x", "quantity": 1', 400, "malformed_json", None, id="unclosed"),
        pytest.param(b"\xff\xfe\x00garbage", 400, "malformed_json", None, id="not-utf8"),
        pytest.param(b"[" * 5000 + b"]" * 5000, 400, "malformed_json", None, id="deep-nesting"),
        pytest.param(
            b'{"item": "x", "quantity": 1' + b"0" * 5000 + b"}",
            400,
            "malformed_json",
            None,
            id="int-too-many-digits",
        ),
        pytest.param(b"[]", 422, "invalid_body", None, id="array"),
        pytest.param(b'"a string"', 422, "invalid_body", None, id="string"),
        pytest.param(b"null", 422, "invalid_body", None, id="null"),
        pytest.param(b"42", 422, "invalid_body", None, id="number"),
        pytest.param(b'{"quantity": 1}', 422, "missing_field", "item", id="missing-item"),
        pytest.param(b'{"item": "x"}', 422, "missing_field", "quantity", id="missing-quantity"),
        pytest.param(b"{}", 422, "missing_field", "item", id="empty-object"),
        pytest.param(
            b'{"item": "x", "quantity": 1, "price": 3}', 422, "unknown_field", "price", id="extra-field"
        ),
        pytest.param(b'{"item": 5, "quantity": 1}', 422, "invalid_type", "item", id="item-number"),
        pytest.param(b'{"item": null, "quantity": 1}', 422, "invalid_type", "item", id="item-null"),
        pytest.param(b'{"item": ["x"], "quantity": 1}', 422, "invalid_type", "item", id="item-list"),
        pytest.param(b'{"item": "x", "quantity": "1"}', 422, "invalid_type", "quantity", id="qty-string"),
        pytest.param(b'{"item": "x", "quantity": 1.5}', 422, "invalid_type", "quantity", id="qty-float"),
        pytest.param(b'{"item": "x", "quantity": 1.0}', 422, "invalid_type", "quantity", id="qty-1.0"),
        pytest.param(b'{"item": "x", "quantity": true}', 422, "invalid_type", "quantity", id="qty-bool"),
        pytest.param(b'{"item": "x", "quantity": null}', 422, "invalid_type", "quantity", id="qty-null"),
        pytest.param(b'{"item": "x", "quantity": NaN}', 422, "invalid_type", "quantity", id="qty-nan"),
        pytest.param(b'{"item": "x", "quantity": 1e400}', 422, "invalid_type", "quantity", id="qty-inf"),
        pytest.param(b'{"item": "x", "quantity": 0}', 422, "out_of_range", "quantity", id="qty-zero"),
        pytest.param(b'{"item": "x", "quantity": -1}', 422, "out_of_range", "quantity", id="qty-negative"),
        pytest.param(b'{"item": "x", "quantity": 1001}', 422, "out_of_range", "quantity", id="qty-1001"),
        pytest.param(
            b'{"item": "x", "quantity": 99999999999999999999999}',
            422,
            "out_of_range",
            "quantity",
            id="qty-beyond-int64",
        ),
        pytest.param(b'{"item": "", "quantity": 1}', 422, "invalid_length", "item", id="item-empty"),
        pytest.param(
            b'{"item": "' + b"x" * 201 + b'", "quantity": 1}',
            422,
            "invalid_length",
            "item",
            id="item-201-chars",
        ),
        pytest.param(b'{"item": "a\\u0000b", "quantity": 1}', 422, "invalid_value", "item", id="item-nul"),
        pytest.param(
            b'{"item": "\\ud800", "quantity": 1}', 422, "invalid_value", "item", id="item-lone-surrogate"
        ),
    ],
)
def test_bad_order_bodies(
    shared_client: httpx.Client, body: bytes, status: int, code: str, field: str | None
) -> None:
    assert_error(shared_client.post("/orders", content=body, headers=JSON), status, code, field)


def test_error_message_names_the_rule(shared_client: httpx.Client) -> None:
    error = assert_error(
        shared_client.post("/orders", json={"item": "x", "quantity": 5000}), 422, "out_of_range", "quantity"
    )
    assert "between 1 and 1000" in error["message"]
    error = assert_error(
        shared_client.post("/orders", json={"item": "x" * 300, "quantity": 1}), 422, "invalid_length", "item"
    )
    assert "1 to 200 characters" in error["message"]


def test_item_length_counts_characters_not_bytes(shared_client: httpx.Client) -> None:
    response = shared_client.post("/orders", json={"item": "€" * 200, "quantity": 1})  # 600 UTF-8 bytes
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "text/json",
    ],
)
def test_wrong_content_type_is_415(shared_client: httpx.Client, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = shared_client.post("/orders", content=b'{"item": "x", "quantity": 1}', headers=headers)
    assert_error(response, 415, "unsupported_media_type", "content-type")


def test_oversize_body_with_content_length_is_413(shared_client: httpx.Client) -> None:
    body = b'{"item": "' + b"x" * 20_000 + b'", "quantity": 1}'
    assert_error(shared_client.post("/orders", content=body, headers=JSON), 413, "payload_too_large", None)


def test_oversize_chunked_body_is_413(shared_client: httpx.Client) -> None:
    """No Content-Length: the limit is enforced while streaming."""

    def chunks() -> Any:
        yield b'{"item": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'", "quantity": 1}'

    response = shared_client.post("/orders", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large", None)


def test_oversize_declared_length_is_rejected_without_reading_the_body(shared_app: Any) -> None:
    """A client announces 10 MB and sends nothing: the server answers 413 at once
    instead of waiting for the body (the client timeout would fire otherwise)."""
    import socket

    host, port = shared_app.settings.host, shared_app.settings.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n"
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/orders/abc", 422, "invalid_type", "order_id"),
        ("/orders/1.5", 422, "invalid_type", "order_id"),
        ("/orders/-1", 422, "invalid_type", "order_id"),
        ("/orders/%20", 422, "invalid_type", "order_id"),
        ("/orders/999999", 404, "order_not_found", "order_id"),
        ("/orders/0", 404, "order_not_found", "order_id"),
        ("/orders/99999999999999999999999999", 404, "order_not_found", "order_id"),
        ("/orders/", 404, "not_found", None),
        ("/nope", 404, "not_found", None),
        ("/orders/1/extra", 404, "not_found", None),
    ],
)
def test_bad_ids_and_unknown_paths(
    shared_client: httpx.Client, path: str, status: int, code: str, field: str | None
) -> None:
    assert_error(shared_client.get(path), status, code, field)


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"limit": "0"}, "out_of_range", "limit"),
        ({"limit": "101"}, "out_of_range", "limit"),
        ({"limit": "99999999999999999999999999"}, "invalid_type", "limit"),
        ({"limit": "-5"}, "invalid_type", "limit"),
        ({"limit": "abc"}, "invalid_type", "limit"),
        ({"limit": "2.5"}, "invalid_type", "limit"),
        ({"limit": ""}, "invalid_type", "limit"),
        ({"limit": "٣"}, "invalid_type", "limit"),  # a non-ASCII digit
        ({"cursor": "abc"}, "invalid_value", "cursor"),
        ({"cursor": "0"}, "invalid_value", "cursor"),
        ({"cursor": "-3"}, "invalid_value", "cursor"),
        ({"cursor": "99999999999999999999"}, "invalid_value", "cursor"),
        ({"cursor": ""}, "invalid_value", "cursor"),
    ],
)
def test_bad_pagination_params_are_422(
    shared_client: httpx.Client, params: dict[str, str], code: str, field: str
) -> None:
    assert_error(shared_client.get("/orders", params=params), 422, code, field)


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/orders"), ("DELETE", "/orders/1"), ("POST", "/healthz")]
)
def test_wrong_method_is_405(shared_client: httpx.Client, method: str, path: str) -> None:
    response = shared_client.request(method, path)
    assert_error(response, 405, "method_not_allowed", None)
    assert "allow" in response.headers
