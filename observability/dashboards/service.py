"""One dashboard per service of services/: its SLOs (budget remaining, burn rates, the error ratio over every
alert window, its burn-rate alerts) and, where its service file declares them, RED panels.

SLO panels read only the recorded series (observability/conventions.py) and ALERTS, selected by `sloth_id`;
RED panels read the declared counter and histogram of the service's own scrape job (`job="<service>"`).
The uid and the folder's uid follow from the service's name, so a rename is a new dashboard.
"""

from __future__ import annotations

import hashlib
from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability import conventions as c
from observability.dashboards.common import SCOPE, TAGS, by, dashboard, graph, model, section, sel, single
from observability.model.service import RedMetrics, Service
from observability.model.slo import SLO
from observability.model.windows import AlertWindows

UID_PREFIX = "svc-"
FOLDER_SUFFIX = "-folder"
MAX_UID = 40  # Grafana's limit on dashboard and folder uids
_DIGEST = 8  # hex characters of the name's SHA-256 that keep a shortened uid unique


def _uid(name: str, suffix: str = "") -> str:
    """`svc-<name><suffix>`, or, when longer than Grafana allows, the name cut short plus its digest."""
    full = f"{UID_PREFIX}{name}{suffix}"
    if len(full) <= MAX_UID:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST]
    keep = MAX_UID - len(UID_PREFIX) - len(suffix) - _DIGEST - 1
    return f"{UID_PREFIX}{name[:keep].rstrip('-')}-{digest}{suffix}"


def dashboard_uid(service: Service) -> str:
    return _uid(service.name)


def folder_uid(service: Service) -> str:
    """The service's own folder (folders and dashboards share one uid space in Grafana 10)."""
    return _uid(service.name, FOLDER_SUFFIX)


def folder_title(service: Service) -> str:
    return f"Service: {service.name}"


def _job(name: str, service: Service, matchers: str = "") -> str:
    """`name{cluster=~"$cluster", environment=~"$environment", job="<service>"[, matchers]}`."""
    extra = f", {matchers}" if matchers else ""
    return f'{name}{{{SCOPE}, job="{service.name}"{extra}}}'


def _per_second(name: str, service: Service, matchers: str = "") -> str:
    return f"rate({_job(name, service, matchers)}[$__rate_interval])"


def _slo_panels(slo: SLO, windows: AlertWindows) -> list[Any]:
    this = {c.SLO_ID_LABEL: slo.id}
    period = windows.period_window
    panels: list[Any] = [
        single(
            "Error budget remaining",
            "percentunit",
            sel(c.PERIOD_ERROR_BUDGET_REMAINING, **this),
            description=f"Share of the {windows.period} error budget left, counted in events.",
        ),
        single(f"Burn rate over {period}", "short", sel(c.PERIOD_BURN_RATE, **this)),
        single("Burn rate now (5m)", "short", sel(c.CURRENT_BURN_RATE, **this)),
    ]
    alerts = {"alertname": slo.alert_name, **this}
    if slo.alert_name:  # both alerts disabled: no alert name, nothing to show
        firing = sel("ALERTS", alertstate="firing", **alerts)
        panels.append(single("Burn-rate alerts firing", "short", f"count({firing}) or vector(0)"))
    ratios = [(sel(c.sli_error_ratio(w), **this), w) for w in (*windows.windows, period)]
    panels.append(
        graph(
            "Error ratio by window",
            "percentunit",
            *ratios,
            (sel(c.ERROR_BUDGET_RATIO, **this), "error budget"),
            description="The share of bad events over each alert window and the period, and the budget.",
        )
    )
    if slo.alert_name:
        labels = f"{c.SEVERITY_LABEL}, {c.LONG_WINDOW_LABEL}, {c.SHORT_WINDOW_LABEL}, alertstate"
        panels.append(
            graph(
                "Burn-rate alerts by severity and windows",
                "short",
                (
                    by(labels, sel("ALERTS", **alerts)),
                    "{{severity}} {{long_window}}/{{short_window}} {{alertstate}}",
                ),
                description=f"{slo.alert_name}: one instance per window pair of the {windows.period} table.",
            )
        )
    return panels


def _red_panels(red: RedMetrics, service: Service) -> list[Any]:
    total = f"sum({_per_second(red.requests, service)})"
    failed = f"sum({_per_second(red.requests, service, red.errors)})"
    panels: list[Any] = [
        graph("Requests", "reqps", (total, "all"), (failed, "failed")),
        graph(
            "Error share",
            "percentunit",
            (f"{failed} / {total}", "failed"),
            description=f"Requests matching {red.errors} among all.",
        ),
    ]
    if red.duration is not None:
        buckets = by("le", _per_second(f"{red.duration}_bucket", service))
        panels.append(
            graph(
                "Duration",
                "s",
                *((f"histogram_quantile({q}, {buckets})", f"p{round(q * 100)}") for q in (0.5, 0.9, 0.99)),
            )
        )
    return panels


def build(service: Service, windows: AlertWindows, ds: DataSourceRef) -> dict[str, Any]:
    description = (
        f"{service.description} Generated from services/{service.name}/ (team {service.team})."
    ).strip()
    board = dashboard(
        uid=dashboard_uid(service), title=f"{service.team} / {service.name}", description=description, ds=ds
    ).tags([*TAGS, f"team:{service.team}", f"service:{service.name}"])
    for slo in service.slos:
        title = f"SLO {slo.name}: {slo.objective}% over {windows.period}"
        board = section(board, title, ds, *_slo_panels(slo, windows))
    if service.dashboards.red is not None:
        board = section(board, "Requests (RED)", ds, *_red_panels(service.dashboards.red, service))
    return model(board)
