"""The orders API's happy paths against a real Postgres."""

from __future__ import annotations

import httpx
from orders_api.validation import LIMIT_DEFAULT


def create(client: httpx.Client, item: str = "widget", quantity: int = 1) -> dict[str, object]:
    response = client.post("/orders", json={"item": item, "quantity": quantity})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_then_get(client: httpx.Client) -> None:
    response = client.post("/orders", json={"item": "blue widget ✓", "quantity": 3})
    assert response.status_code == 201
    order = response.json()
    assert order["item"] == "blue widget ✓"
    assert order["quantity"] == 3
    assert isinstance(order["id"], int)
    assert isinstance(order["created_at"], str)
    assert response.headers["location"] == f"/orders/{order['id']}"

    fetched = client.get(f"/orders/{order['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == order


def test_boundary_values_are_accepted(client: httpx.Client) -> None:
    assert create(client, item="x", quantity=1)["quantity"] == 1
    assert create(client, item="y" * 200, quantity=1000)["item"] == "y" * 200
    # content-type parameters are fine
    response = client.post(
        "/orders",
        content=b'{"quantity": 7, "item": "z"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_list_empty(client: httpx.Client) -> None:
    response = client.get("/orders")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_list_is_newest_first_with_default_limit(client: httpx.Client) -> None:
    ids = [create(client, item=f"item-{i}")["id"] for i in range(LIMIT_DEFAULT + 5)]
    page = client.get("/orders").json()
    assert [o["id"] for o in page["items"]] == list(reversed(ids))[:LIMIT_DEFAULT]
    assert page["next_cursor"] is not None


def test_keyset_pagination_walks_every_order_once(client: httpx.Client) -> None:
    ids = [create(client, item=f"item-{i}", quantity=i + 1)["id"] for i in range(7)]
    seen: list[object] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        response = client.get("/orders", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        seen.extend(o["id"] for o in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not terminate"
    assert pages == 3
    assert seen == list(reversed(ids))


def test_exact_page_size_has_no_next_cursor(client: httpx.Client) -> None:
    for i in range(4):
        create(client, item=f"item-{i}")
    page = client.get("/orders", params={"limit": "4"}).json()
    assert len(page["items"]) == 4
    assert page["next_cursor"] is None


def test_new_orders_do_not_disturb_a_pagination_in_progress(client: httpx.Client) -> None:
    ids = [create(client)["id"] for _ in range(4)]
    first = client.get("/orders", params={"limit": "2"}).json()
    create(client)  # a newer order arrives between pages
    second = client.get("/orders", params={"limit": "2", "cursor": first["next_cursor"]}).json()
    assert [o["id"] for o in first["items"] + second["items"]] == list(reversed(ids))


def test_health_endpoints(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
