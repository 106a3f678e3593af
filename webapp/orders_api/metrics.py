"""Prometheus metrics, on a registry owned by one app instance (no globals)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.metrics import disable_created_metrics
from prometheus_client.registry import Collector

from . import slo_contract as c

# ``*_created`` series would double the series count for no SLO value and are
# not listed in slo_contract.EXPOSED_SERIES_NAMES.
disable_created_metrics()  # type: ignore[no-untyped-call]


class PoolStatsCollector(Collector):
    """Reads connection-pool statistics at scrape time."""

    def __init__(self, get_stats: Callable[[], Mapping[str, int]]) -> None:
        self._get_stats = get_stats

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._get_stats()
        for name, key, doc in (
            (c.DB_POOL_SIZE, "pool_size", "Connections open or being opened by the pool."),
            (c.DB_POOL_MAX_SIZE, "pool_max", "Configured maximum pool size."),
            (c.DB_POOL_AVAILABLE, "pool_available", "Idle connections ready for use."),
            (c.DB_POOL_REQUESTS_WAITING, "requests_waiting", "Requests queued for a connection."),
        ):
            yield GaugeMetricFamily(name, doc, value=stats.get(key, 0))
        yield CounterMetricFamily(
            c.DB_POOL_CONNECTION_ERRORS_TOTAL.removesuffix("_total"),
            "Failed attempts to open a database connection.",
            value=stats.get("connections_errors", 0),
        )


class Metrics:
    def __init__(self, version: str, revision: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            c.HTTP_REQUESTS_TOTAL.removesuffix("_total"),
            "HTTP requests handled, excluding /metrics, /healthz and /readyz.",
            c.HTTP_LABELS,
            registry=self.registry,
        )
        self.http_duration = Histogram(
            c.HTTP_REQUEST_DURATION_SECONDS,
            "HTTP request latency, excluding /metrics, /healthz and /readyz.",
            c.HTTP_DURATION_LABELS,
            buckets=c.REQUEST_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.db_duration = Histogram(
            c.DB_QUERY_DURATION_SECONDS,
            "Database operation latency (connection checkout excluded).",
            ("operation",),
            buckets=c.DB_QUERY_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.db_errors = Counter(
            c.DB_ERRORS_TOTAL.removesuffix("_total"),
            "Failed database operations; kind: unavailable, schema (not migrated) or query.",
            ("operation", "kind"),
            registry=self.registry,
        )
        build_info = Gauge(
            c.BUILD_INFO, "Build information.", ("version", "revision"), registry=self.registry
        )
        build_info.labels(version=version, revision=revision).set(1)

    def watch_pool(self, get_stats: Callable[[], Mapping[str, int]]) -> None:
        self.registry.register(PoolStatsCollector(get_stats))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_duration.labels(method=method, route=route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
