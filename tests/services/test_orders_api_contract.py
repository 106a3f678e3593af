"""The orders API's code keeps the promises its service files make (services/orders-api): it exposes
every series the file keeps and nothing else, on the port and path the file names, and the latency SLO's
threshold is a bucket boundary of its histogram. The files are the spec; the code is checked against it."""

from __future__ import annotations

from observability.model.load import load_default
from observability.model.promql import selectors
from observability.model.slo import window_query
from webapp.orders_api import slo_contract as contract

SERVICE = load_default().service("orders-api")


def test_the_app_exposes_exactly_what_the_service_keeps():
    assert sorted(contract.EXPOSED_SERIES_NAMES) == sorted(SERVICE.keep)


def test_metrics_are_served_where_the_service_says():
    assert SERVICE.metrics_path == contract.METRICS_PATH
    assert SERVICE.namespace == "orders"


def test_slo_queries_read_series_the_app_exposes_with_labels_it_sets():
    for slo in SERVICE.slos:
        for query in slo.sli.queries():
            for selector in selectors(window_query(query, "5m")):
                assert selector.name in contract.EXPOSED_SERIES_NAMES, (slo.name, selector.name)
                app_labels = set(selector.equals) - {"job", "namespace", "container", "le"}
                assert app_labels <= set(contract.HTTP_LABELS), (slo.name, app_labels)


def test_the_latency_threshold_is_a_bucket_the_app_has():
    (latency,) = [slo for slo in SERVICE.slos if slo.name == "latency"]
    buckets = {
        selector.equals["le"]
        for query in latency.sli.queries()
        for selector in selectors(window_query(query, "5m"))
        if "le" in selector.equals
    }
    assert buckets == {contract.LATENCY_SLO_THRESHOLD_LE}
    assert float(contract.LATENCY_SLO_THRESHOLD_LE) in contract.REQUEST_DURATION_BUCKETS
