"""Web app: RED (request rate, errors, duration) by route, the database from the app's side (query latency
and errors, connection pool), its running versions. Its SLOs are on its service dashboard (linked)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import DashboardLink
from grafana_foundation_sdk.models.dashboard import DashboardLinkType, DataSourceRef

from observability import names
from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel
from observability.dashboards.service import dashboard_uid
from observability.model.load import load_default

UID = "eks-obs-webapp"
SERVICE = names.WEBAPP  # its folder in services/
# The app's series as the agent labels them: its own job (named after the service), its namespace and
# its container.
WEBAPP_SELECTOR = {"job": SERVICE, "namespace": names.APP_NAMESPACE, "container": names.WEBAPP}
_APP = WEBAPP_SELECTOR
# The app's series by the names its service file keeps (services/orders-api/service.yaml; the app's code
# is checked against that file, and tests/dashboards that every query reads a kept series).
_HTTP = "http_requests_total"
_DURATION = "http_request_duration_seconds"
_DB = "orders_api_db_query_duration_seconds"


def _mean(family: str, labels: str) -> str:
    return f"{by(labels, rate(f'{family}_sum', **_APP))} / {by(labels, rate(f'{family}_count', **_APP))}"


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Web app", ds=ds, description=__doc__ or "").link(
        DashboardLink("SLOs")
        .type(DashboardLinkType.LINK)
        .url(f"/d/{dashboard_uid(load_default().service(SERVICE))}")
        .tooltip("The orders API's service dashboard: error budgets, burn rates, alerts")
    )
    errors = f"{by('route', rate(_HTTP, status='~5..', **_APP))} / {by('route', rate(_HTTP, **_APP))}"
    p99 = f"histogram_quantile(0.99, {by('le, route', rate(f'{_DURATION}_bucket', **_APP))})"
    board = section(
        board,
        "Requests (RED)",
        ds,
        graph(
            "Requests by route and status",
            "reqps",
            (by("route, status", rate(_HTTP, **_APP)), "{{route}} {{status}}"),
        ),
        graph("5xx share by route", "percentunit", (errors, "{{route}}")),
        graph(
            "Latency p99 and mean by route",
            "s",
            (p99, "{{route}} p99"),
            (_mean(_DURATION, "route"), "{{route}} mean"),
        ),
        listing("Running versions", by("version, revision", sel("orders_api_build_info", **_APP), "count")),
    )
    db_p99 = f"histogram_quantile(0.99, {by('le, operation', rate(f'{_DB}_bucket', **_APP))})"
    board = section(
        board,
        "Database (from the app)",
        ds,
        graph(
            "Query latency p99 and mean",
            "s",
            (db_p99, "{{operation}} p99"),
            (_mean(_DB, "operation"), "{{operation}} mean"),
        ),
        graph(
            "Query errors",
            "ops",
            (by("operation, kind", rate("orders_api_db_errors_total", **_APP)), "{{operation}} {{kind}}"),
        ),
        graph(
            "Connection pool",
            "short",
            (f"sum({sel('orders_api_db_pool_size', **_APP)})", "open"),
            (f"sum({sel('orders_api_db_pool_available', **_APP)})", "idle"),
            (f"sum({sel('orders_api_db_pool_max_size', **_APP)})", "maximum"),
            (f"sum({sel('orders_api_db_pool_requests_waiting', **_APP)})", "waiting"),
        ),
        graph(
            "Pool connection errors",
            "ops",
            (f"sum({rate('orders_api_db_pool_connection_errors_total', **_APP)})", "errors"),
        ),
    )
    return model(board)
