"""Web app: RED (request rate, errors, duration), the database from the app's side (query latency and
errors, connection pool), and its SLOs (error budget remaining, burn rates, alert state)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from k8s import names
from observability import conventions as c
from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel, single
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


def _slo_panels() -> list[Any]:
    """Per SLO: budget remaining, burn rates (period and 5m), alert instances firing."""
    panels: list[Any] = []
    services = load_default()
    service = services.service(SERVICE)
    period = services.windows_of(service).period
    for slo in service.slos:
        this = {c.SLO_ID_LABEL: slo.id}
        firing = sel("ALERTS", alertname=slo.alert_name, alertstate="firing")
        panels += [
            single(
                f"{slo.name}: error budget remaining",
                "percentunit",
                sel(c.PERIOD_ERROR_BUDGET_REMAINING, **this),
            ),
            single(f"{slo.name}: burn rate over {period}", "short", sel(c.PERIOD_BURN_RATE, **this)),
            single(f"{slo.name}: burn rate now (5m)", "short", sel(c.CURRENT_BURN_RATE, **this)),
            single(f"{slo.name}: burn-rate alerts firing", "short", f"count({firing}) or vector(0)"),
        ]
    windows = [
        (sel(c.sli_error_ratio(window), **{c.SLO_ID_LABEL: slo.id}), f"{slo.name} {window}")
        for slo in service.slos
        for window in ("5m", "1h", "6h", "3d")
    ]
    alerts = sel("ALERTS", alertname="~" + "|".join(slo.alert_name for slo in service.slos))
    panels += [
        graph("Error ratio by window", "percentunit", *windows),
        graph(
            "SLO alerts by severity and windows",
            "short",
            (
                by("alertname, severity, long_window, alertstate", alerts),
                "{{alertname}} {{severity}} {{long_window}} {{alertstate}}",
            ),
        ),
    ]
    return panels


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Web app", ds=ds, description=__doc__ or "")
    errors = f"{by('route', rate(_HTTP, status='~5..', **_APP))} / {by('route', rate(_HTTP, **_APP))}"
    p99 = f"histogram_quantile(0.99, {by('le, route', rate(f'{_DURATION}_bucket', **_APP))})"
    board = section(board, "Service level objectives", ds, *_slo_panels())
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
