"""Single source of truth shared by the app and the observability platform.

Plain constants only: NO third-party imports, so the CDK/SLO code can import
this module without installing the app's runtime dependencies.

SLI conventions (what SLO queries can rely on):

* ``http_requests_total`` and ``http_request_duration_seconds`` only cover API
  traffic. Requests to ``/metrics``, ``/healthz`` and ``/readyz`` are NOT
  recorded at all (see ``NON_SLI_PATHS``), so SLO queries need no filter.
* The ``route`` label is the route *template* (e.g. ``/orders/{order_id}``);
  requests that match no route get ``route="unmatched"``. Raw paths never
  become label values.
* Availability SLI: ``status`` >= 500 is a bad event (``status`` is the HTTP
  status code as a string, e.g. ``"503"``).
* Latency SLI: the histogram has a bucket whose upper bound is exactly
  ``LATENCY_SLO_THRESHOLD_SECONDS`` (label ``le="0.3"``, see
  ``LATENCY_SLO_THRESHOLD_LE``).
"""

from __future__ import annotations

# --- network ----------------------------------------------------------------
APP_PORT = 8080
METRICS_PATH = "/metrics"
HEALTHZ_PATH = "/healthz"
READYZ_PATH = "/readyz"
NON_SLI_PATHS = (METRICS_PATH, HEALTHZ_PATH, READYZ_PATH)

# --- latency SLO ------------------------------------------------------------
LATENCY_SLO_THRESHOLD_SECONDS = 0.3
# The ``le`` label value Prometheus clients render for the threshold bucket.
LATENCY_SLO_THRESHOLD_LE = "0.3"
REQUEST_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0)
DB_QUERY_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

# Checked with ``raise`` rather than ``assert`` so ``python -O`` keeps the check.
if LATENCY_SLO_THRESHOLD_SECONDS not in REQUEST_DURATION_BUCKETS:
    raise ValueError("LATENCY_SLO_THRESHOLD_SECONDS must be one of REQUEST_DURATION_BUCKETS")
if list(REQUEST_DURATION_BUCKETS) != sorted(set(REQUEST_DURATION_BUCKETS)):
    raise ValueError("REQUEST_DURATION_BUCKETS must be strictly increasing")
if repr(LATENCY_SLO_THRESHOLD_SECONDS) != LATENCY_SLO_THRESHOLD_LE:
    raise ValueError("LATENCY_SLO_THRESHOLD_LE must render LATENCY_SLO_THRESHOLD_SECONDS")

# --- metric names (family names, as in ``# TYPE`` lines) ---------------------
HTTP_REQUESTS_TOTAL = "http_requests_total"  # counter {method, route, status}
HTTP_REQUEST_DURATION_SECONDS = "http_request_duration_seconds"  # histogram {method, route}
DB_QUERY_DURATION_SECONDS = "orders_api_db_query_duration_seconds"  # histogram {operation}
DB_ERRORS_TOTAL = "orders_api_db_errors_total"  # counter {operation, kind}
DB_POOL_SIZE = "orders_api_db_pool_size"  # gauge: open connections
DB_POOL_MAX_SIZE = "orders_api_db_pool_max_size"  # gauge: configured maximum
DB_POOL_AVAILABLE = "orders_api_db_pool_available"  # gauge: idle connections
DB_POOL_REQUESTS_WAITING = "orders_api_db_pool_requests_waiting"  # gauge: queued requests
DB_POOL_CONNECTION_ERRORS_TOTAL = "orders_api_db_pool_connection_errors_total"  # counter
BUILD_INFO = "orders_api_build_info"  # gauge {version, revision} = 1

# Label values and label names used by the request metrics.
UNMATCHED_ROUTE = "unmatched"
HTTP_LABELS = ("method", "route", "status")
HTTP_DURATION_LABELS = ("method", "route")

# name -> Prometheus type, for every family the app exposes on METRICS_PATH.
EXPOSED_METRICS = (
    (HTTP_REQUESTS_TOTAL, "counter"),
    (HTTP_REQUEST_DURATION_SECONDS, "histogram"),
    (DB_QUERY_DURATION_SECONDS, "histogram"),
    (DB_ERRORS_TOTAL, "counter"),
    (DB_POOL_SIZE, "gauge"),
    (DB_POOL_MAX_SIZE, "gauge"),
    (DB_POOL_AVAILABLE, "gauge"),
    (DB_POOL_REQUESTS_WAITING, "gauge"),
    (DB_POOL_CONNECTION_ERRORS_TOTAL, "counter"),
    (BUILD_INFO, "gauge"),
)
EXPOSED_METRIC_NAMES = tuple(name for name, _ in EXPOSED_METRICS)

_SERIES_SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
# Every sample (series) name that appears in the exposition: what a scrape
# ``keep`` relabelling rule on ``__name__`` has to let through.
EXPOSED_SERIES_NAMES = tuple(
    name + suffix for name, kind in EXPOSED_METRICS for suffix in _SERIES_SUFFIXES[kind]
)
# Anchored regex for a Prometheus ``metric_relabel_configs`` keep rule.
EXPOSED_SERIES_REGEX = "|".join(EXPOSED_SERIES_NAMES)
