"""Web app: RED (request rate, errors, duration) by route, the database from the app's side (query latency
and errors, connection pool), its running versions. Its SLOs are on its service dashboard (linked)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import DashboardLink
from grafana_foundation_sdk.models.dashboard import DashboardLinkType, DataSourceRef

from k8s import names
from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel
from observability.dashboards.service import dashboard_uid
from observability.model.load import load_default
from webapp.orders_api import slo_contract as contract

UID = "eks-obs-webapp"
SERVICE = names.WEBAPP  # its folder in services/
# The app's series as the agent labels them: its own job (named after the service), its namespace and
# its container.
WEBAPP_SELECTOR = {"job": SERVICE, "namespace": names.APP_NAMESPACE, "container": names.WEBAPP}
_APP = WEBAPP_SELECTOR
_HTTP = contract.HTTP_REQUESTS_TOTAL
_DURATION = contract.HTTP_REQUEST_DURATION_SECONDS
_DB = contract.DB_QUERY_DURATION_SECONDS


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
        listing("Running versions", by("version, revision", sel(contract.BUILD_INFO, **_APP), "count")),
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
            (by("operation, kind", rate(contract.DB_ERRORS_TOTAL, **_APP)), "{{operation}} {{kind}}"),
        ),
        graph(
            "Connection pool",
            "short",
            (f"sum({sel(contract.DB_POOL_SIZE, **_APP)})", "open"),
            (f"sum({sel(contract.DB_POOL_AVAILABLE, **_APP)})", "idle"),
            (f"sum({sel(contract.DB_POOL_MAX_SIZE, **_APP)})", "maximum"),
            (f"sum({sel(contract.DB_POOL_REQUESTS_WAITING, **_APP)})", "waiting"),
        ),
        graph(
            "Pool connection errors",
            "ops",
            (f"sum({rate(contract.DB_POOL_CONNECTION_ERRORS_TOTAL, **_APP)})", "errors"),
        ),
    )
    return model(board)
