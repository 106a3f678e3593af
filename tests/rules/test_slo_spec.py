"""The SLO specs: what the web app promises, and one clear error per broken rule."""

from __future__ import annotations

import math
from typing import Any

import pytest

from observability import slo_rules
from observability.slos import (
    SLOS,
    WEBAPP_SELECTOR,
    AvailabilitySLO,
    LatencySLO,
    SLOSpecError,
    checked,
)
from webapp.orders_api import slo_contract


def availability(**overrides: Any) -> AvailabilitySLO:
    fields: dict[str, Any] = {
        "name": "api-availability",
        "service": "api",
        "objective": 0.999,
        "selector": WEBAPP_SELECTOR,
    }
    return AvailabilitySLO(**fields | overrides)


def latency(**overrides: Any) -> LatencySLO:
    fields: dict[str, Any] = {
        "name": "api-latency",
        "service": "api",
        "objective": 0.99,
        "threshold_seconds": 0.3,
        "selector": WEBAPP_SELECTOR,
    }
    return LatencySLO(**fields | overrides)


def error_of(build, **overrides) -> str:
    with pytest.raises(SLOSpecError) as raised:
        build(**overrides)
    return str(raised.value)


def test_the_web_apps_slos():
    by_kind = {spec.kind: spec for spec in SLOS}
    assert set(by_kind) == {"availability", "latency"}
    avail, lat = by_kind["availability"], by_kind["latency"]
    assert isinstance(avail, AvailabilitySLO)
    assert (avail.objective, avail.window, avail.metric) == (0.999, "30d", slo_contract.HTTP_REQUESTS_TOTAL)
    assert isinstance(lat, LatencySLO)
    assert (lat.objective, lat.window, lat.metric) == (
        0.99,
        "30d",
        slo_contract.HTTP_REQUEST_DURATION_SECONDS,
    )
    assert lat.threshold_seconds == slo_contract.LATENCY_SLO_THRESHOLD_SECONDS
    assert lat.le == slo_contract.LATENCY_SLO_THRESHOLD_LE
    assert {spec.service for spec in SLOS} == {"orders-api"}
    assert dict(avail.selector) == {"job": "pods", "namespace": "orders", "container": "orders-api"}
    assert str(avail.error_budget) == "0.001"
    assert avail.days == 30


@pytest.mark.parametrize("objective", [1.0, 1, 0.0, 0, -0.5, 1.5, math.nan, True, "0.99"])
def test_objective_must_be_strictly_between_0_and_1(objective):
    assert error_of(latency, objective=objective) == (
        f"slos[api-latency].objective: must be strictly between 0 and 1 (got {objective!r})"
    )


def test_the_edges_of_a_valid_objective():
    assert latency(objective=0.5).error_budget == 0.5
    assert availability(objective=0.99999).error_budget == 0.00001


@pytest.mark.parametrize("window", ["7d", "28d", "30", "", "720h"])
def test_window_must_be_a_supported_period(window):
    assert error_of(availability, window=window) == (
        f"slos[api-availability].window: must be one of ['30d'] (got {window!r})"
    )


@pytest.mark.parametrize("threshold", [0.2, 0.35, 10.0, 0.0])
def test_latency_threshold_must_be_a_bucket_boundary(threshold):
    buckets = list(slo_contract.REQUEST_DURATION_BUCKETS)
    assert error_of(latency, threshold_seconds=threshold) == (
        f"slos[api-latency].threshold_seconds: must be a bucket boundary of http_request_duration_seconds, "
        f"one of {buckets} (got {threshold!r})"
    )


def test_threshold_is_checked_against_the_chosen_histogram():
    db = latency(metric=slo_contract.DB_QUERY_DURATION_SECONDS, threshold_seconds=0.1)
    assert db.le == "0.1"
    assert "one of [0.001, 0.0025," in error_of(
        latency, metric=slo_contract.DB_QUERY_DURATION_SECONDS, threshold_seconds=0.3
    )


@pytest.mark.parametrize("metric", ["http_request_latency_seconds", "http_requests_total", "up"])
def test_latency_metric_must_be_a_histogram_the_app_exposes(metric):
    assert error_of(latency, metric=metric) == (
        f"slos[api-latency].metric: must be a histogram the web app exposes, one of "
        f"['http_request_duration_seconds', 'orders_api_db_query_duration_seconds'] (got {metric!r})"
    )


@pytest.mark.parametrize(
    "metric", ["http_requests", "orders_api_db_errors_total", "http_request_duration_seconds"]
)
def test_availability_metric_must_be_a_counter_with_a_status(metric):
    assert error_of(availability, metric=metric) == (
        f"slos[api-availability].metric: must be a counter with a status label the web app exposes, "
        f"one of ['http_requests_total'] (got {metric!r})"
    )


def test_names_must_be_unique():
    expected = "slos[api-latency].name: must be unique (got it more than once)"
    with pytest.raises(SLOSpecError) as raised:
        checked([latency(), availability(), latency(objective=0.9)])
    assert str(raised.value) == expected
    with pytest.raises(SLOSpecError) as raised:
        slo_rules.rules_file([latency(), latency()], runbook_base_url="https://example.invalid")
    assert str(raised.value) == expected


@pytest.mark.parametrize("field", ["name", "service"])
@pytest.mark.parametrize("value", ["Api", "api_latency", "-api", "api-", "", "api latency"])
def test_name_and_service_must_be_lowercase_words(field, value):
    spec_name = value if field == "name" else "api-latency"
    assert error_of(latency, **{field: value}) == (
        f"slos[{spec_name}].{field}: must be lower-case words joined by '-' (got {value!r})"
    )


@pytest.mark.parametrize("selector", [{}, {"bad-label": "x"}])
def test_selector_must_pick_series_by_label(selector):
    assert error_of(availability, selector=selector) == (
        f"slos[api-availability].selector: must match at least one label by name (got {selector!r})"
    )


def test_every_broken_rule_is_reported_on_its_own_line():
    assert error_of(latency, objective=2, window="7d", threshold_seconds=0.2).splitlines() == [
        "slos[api-latency].objective: must be strictly between 0 and 1 (got 2)",
        "slos[api-latency].window: must be one of ['30d'] (got '7d')",
        "slos[api-latency].threshold_seconds: must be a bucket boundary of http_request_duration_seconds, "
        f"one of {list(slo_contract.REQUEST_DURATION_BUCKETS)} (got 0.2)",
    ]


def test_specs_are_frozen():
    with pytest.raises(AttributeError):
        SLOS[0].objective = 0.5  # type: ignore[misc]
