"""What /metrics exposes, parsed with prometheus_client's own parser."""

from __future__ import annotations

import httpx
from orders_api import slo_contract as c
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

Labels = tuple[tuple[str, str], ...]


def scrape(client: httpx.Client) -> dict[str, list[Sample]]:
    response = client.get(c.METRICS_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = list(family.samples)
    return families


def types(client: httpx.Client) -> dict[str, str]:
    text = client.get(c.METRICS_PATH).text
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    matching = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(matching) <= 1
    return matching[0] if matching else 0.0


def counts(families: dict[str, list[Sample]]) -> dict[Labels, float]:
    """http_requests_total per (method, route, status)."""
    samples = families.get("http_requests", [])
    return {tuple(sorted(s.labels.items())): s.value for s in samples if s.name == c.HTTP_REQUESTS_TOTAL}


def key(method: str, route: str, status: int) -> Labels:
    return tuple(sorted({"method": method, "route": route, "status": str(status)}.items()))


def test_request_counter_uses_route_templates_and_counts_exactly(client: httpx.Client) -> None:
    before = counts(scrape(client))
    created = [client.post("/orders", json={"item": f"i{i}", "quantity": 1}).json() for i in range(3)]
    for order in created:
        assert client.get(f"/orders/{order['id']}").status_code == 200
    assert client.get("/orders/123456789").status_code == 404
    assert client.get("/orders", params={"limit": "2"}).status_code == 200
    assert client.get("/orders", params={"limit": "0"}).status_code == 422
    for path in ("/does-not-exist", "/orders/1/x", "/wp-admin/setup.php"):
        assert client.get(path).status_code == 404
    client.get("/healthz")
    client.get("/readyz")
    after = counts(scrape(client))

    delta = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}
    assert delta == {
        key("POST", "/orders", 201): 3,
        key("GET", "/orders/{order_id}", 200): 3,
        key("GET", "/orders/{order_id}", 404): 1,
        key("GET", "/orders", 200): 1,
        key("GET", "/orders", 422): 1,
        key("GET", c.UNMATCHED_ROUTE, 404): 3,
    }
    routes = {dict(k)["route"] for k in after}
    assert routes <= {"/orders", "/orders/{order_id}", c.UNMATCHED_ROUTE}, "raw paths leaked into labels"


def test_probes_and_metrics_are_not_sli_traffic(client: httpx.Client) -> None:
    for _ in range(3):
        client.get("/healthz")
        client.get("/readyz")
        scrape(client)
    routes = {dict(k)["route"] for k in counts(scrape(client))}
    assert routes.isdisjoint(c.NON_SLI_PATHS)


def test_unknown_methods_do_not_create_label_values(client: httpx.Client) -> None:
    assert client.request("PROPFIND", "/orders").status_code == 405
    methods = {dict(k)["method"] for k in counts(scrape(client))}
    assert "PROPFIND" not in methods
    assert "OTHER" in methods


def test_latency_histogram_has_the_slo_bucket(client: httpx.Client) -> None:
    for _ in range(2):
        assert client.get("/orders").status_code == 200
    samples = scrape(client)[c.HTTP_REQUEST_DURATION_SECONDS]
    labels = {"method": "GET", "route": "/orders"}
    bucket_bounds = [
        s.labels["le"]
        for s in samples
        if s.name == c.HTTP_REQUEST_DURATION_SECONDS + "_bucket"
        and {k: v for k, v in s.labels.items() if k != "le"} == labels
    ]
    assert c.LATENCY_SLO_THRESHOLD_LE in bucket_bounds
    assert [float(b) for b in bucket_bounds] == [*c.REQUEST_DURATION_BUCKETS, float("inf")]
    assert c.LATENCY_SLO_THRESHOLD_SECONDS in [float(b) for b in bucket_bounds]
    assert value(samples, c.HTTP_REQUEST_DURATION_SECONDS + "_count", **labels) == 2
    inf = value(samples, c.HTTP_REQUEST_DURATION_SECONDS + "_bucket", le="+Inf", **labels)
    assert inf == 2


def test_db_pool_query_and_build_info_metrics(client: httpx.Client) -> None:
    client.post("/orders", json={"item": "x", "quantity": 1})
    families = scrape(client)
    build = families[c.BUILD_INFO]
    assert [(s.labels, s.value) for s in build] == [({"version": "dev", "revision": "unknown"}, 1.0)]
    db = families[c.DB_QUERY_DURATION_SECONDS]
    assert value(db, c.DB_QUERY_DURATION_SECONDS + "_count", operation="insert_order") == 1
    assert value(families[c.DB_POOL_MAX_SIZE], c.DB_POOL_MAX_SIZE) == 4
    assert value(families[c.DB_POOL_SIZE], c.DB_POOL_SIZE) >= 1
    assert value(families[c.DB_POOL_REQUESTS_WAITING], c.DB_POOL_REQUESTS_WAITING) == 0
    assert value(families[c.DB_POOL_AVAILABLE], c.DB_POOL_AVAILABLE) >= 1


def test_exposition_matches_the_contract(client: httpx.Client) -> None:
    """Every family the app exposes is listed in slo_contract (so a scrape keep-list
    derived from it drops nothing), with the declared type, and vice versa."""
    client.post("/orders", json={"item": "x", "quantity": 1})
    client.get("/orders", params={"limit": "0"})
    client.get("/orders/999999")
    exposed = types(client)
    expected = {
        name.removesuffix("_total") if kind == "counter" else name: kind for name, kind in c.EXPOSED_METRICS
    }
    assert exposed == expected
    text = client.get(c.METRICS_PATH).text
    sample_names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert sample_names <= set(c.EXPOSED_SERIES_NAMES)
    assert not any(name.endswith("_created") for name in sample_names)
