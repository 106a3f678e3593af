"""The live view of `make local`: what the AMP stand-in and the sink hold now, as a `rich` renderable.

`collect` asks a query function (PromQL -> Prometheus result list), so the tests feed it canned
results; `render` draws a `Snapshot`. The SLO series are the recorded ones (observability/conventions.py
names, one per SLO of the services' files): nothing here re-derives an SLO.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from observability import conventions as c
from observability.dashboards.webapp import SERVICE, WEBAPP_SELECTOR
from observability.model.load import load_default
from observability.model.slo import SLO
from webapp.orders_api import slo_contract as contract

Query = Callable[[str], list[dict[str, Any]]]
RATE_WINDOW = "2m"  # four 30 s scrapes
_SELECTOR = ", ".join(f'{k}="{v}"' for k, v in sorted(WEBAPP_SELECTOR.items()))
REQUEST_RATE = f"sum(rate({contract.HTTP_REQUESTS_TOTAL}{{{_SELECTOR}}}[{RATE_WINDOW}]))"
# Without a single 5xx the error series does not exist: count zero errors, not none.
ERROR_RATIO = (
    f'(sum(rate({contract.HTTP_REQUESTS_TOTAL}{{{_SELECTOR}, status=~"5.."}}[{RATE_WINDOW}])) or vector(0))'
    f" / {REQUEST_RATE}"
)
P99 = (
    f"histogram_quantile(0.99, sum by (le) "
    f"(rate({contract.HTTP_REQUEST_DURATION_SECONDS}_bucket{{{_SELECTOR}}}[{RATE_WINDOW}])))"
)


def slo_queries(slo: SLO) -> dict[str, str]:
    """The recorded series the view shows for one SLO."""
    this = f'{{{c.SLO_ID_LABEL}="{slo.id}"}}'
    return {
        "error_ratio_5m": c.sli_error_ratio("5m") + this,
        "burn_rate": c.CURRENT_BURN_RATE + this,
        "budget_remaining": c.PERIOD_ERROR_BUDGET_REMAINING + this,
    }


@dataclass(frozen=True)
class SLOStatus:
    name: str
    objective: float
    error_ratio_5m: float | None
    burn_rate: float | None
    budget_remaining: float | None


@dataclass(frozen=True)
class Snapshot:
    at: float
    request_rate: float | None = None
    error_ratio: float | None = None
    p99_seconds: float | None = None
    slos: tuple[SLOStatus, ...] = ()
    firing: tuple[Mapping[str, str], ...] = ()  # alert labels
    notifications: tuple[Mapping[str, Any], ...] = ()  # as the sink recorded them
    faults: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    unreachable: str | None = None  # why the AMP stand-in could not answer


def _value(query: Query, promql: str) -> float | None:
    result = query(promql)
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if value != value else value  # NaN: no traffic


def collect(
    query: Query,
    firing_alerts: Callable[[], list[dict[str, Any]]],
    notifications: Sequence[Mapping[str, Any]],
    faults: Mapping[str, tuple[str, float]],
    *,
    now: float | None = None,
) -> Snapshot:
    """One snapshot. A failing query (the AMP stand-in stopped) gives an empty snapshot that says so."""
    at = time.time() if now is None else now
    base: dict[str, Any] = {"at": at, "notifications": tuple(notifications[-6:]), "faults": dict(faults)}
    try:
        slos = tuple(
            SLOStatus(
                name=slo.id,
                objective=slo.objective_ratio,
                **{key: _value(query, promql) for key, promql in slo_queries(slo).items()},
            )
            for slo in load_default().service(SERVICE).slos
        )
        return Snapshot(
            request_rate=_value(query, REQUEST_RATE),
            error_ratio=_value(query, ERROR_RATIO),
            p99_seconds=_value(query, P99),
            slos=slos,
            firing=tuple(a["labels"] for a in firing_alerts() if a.get("state") == "firing"),
            **base,
        )
    except Exception as exc:  # the view keeps running whatever the stand-in does
        return Snapshot(unreachable=f"AMP stand-in: {type(exc).__name__}", **base)


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _num(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _ago(at: float, since: float) -> str:
    return f"{max(0, int(at - since))} s ago"


def render(snapshot: Snapshot) -> Group:
    parts: list[Any] = []
    header = Text(time.strftime("%H:%M:%S", time.localtime(snapshot.at)), style="bold")
    if snapshot.unreachable:
        header.append(f"   {snapshot.unreachable} (no data until it is back)", style="bold red")
    parts.append(header)

    traffic = Table(title="web app (orders API)", title_justify="left")
    for column in ("requests/s", "error ratio", "p99"):
        traffic.add_column(column, justify="right")
    traffic.add_row(
        _num(snapshot.request_rate, "/s"), _pct(snapshot.error_ratio), _num(snapshot.p99_seconds, " s", 3)
    )
    parts.append(traffic)

    slos = Table(title="SLOs (recorded series)", title_justify="left")
    for column in ("SLO", "objective", "error ratio 5m", "burn rate", "budget remaining"):
        slos.add_column(column, justify="left" if column == "SLO" else "right")
    for slo in snapshot.slos:
        burning = slo.burn_rate is not None and slo.burn_rate > 1
        slos.add_row(
            slo.name,
            _pct(slo.objective, 1),
            _pct(slo.error_ratio_5m),
            Text(_num(slo.burn_rate, "x"), style="bold red" if burning else ""),
            _pct(slo.budget_remaining, 1),
        )
    parts.append(slos)

    alerts = Table(title="firing alerts (AMP stand-in)", title_justify="left")
    for column in ("alert", "severity", "windows / target"):
        alerts.add_column(column)
    for labels in snapshot.firing:
        windows = (
            f"{labels[c.LONG_WINDOW_LABEL]}/{labels[c.SHORT_WINDOW_LABEL]}"
            if c.LONG_WINDOW_LABEL in labels
            else labels.get("instance", labels.get("job", ""))
        )
        style = "bold red" if labels.get(c.SEVERITY_LABEL) == c.PAGE else ""
        alerts.add_row(
            Text(labels.get("alertname", "?"), style=style), labels.get(c.SEVERITY_LABEL, ""), windows
        )
    parts.append(alerts)

    sent = Table(title="last notifications (sink)", title_justify="left")
    for column in ("received", "receiver", "status", "alerts"):
        sent.add_column(column)
    for note in reversed(snapshot.notifications):
        payload = note.get("payload", {})
        names = sorted(
            {
                f"{a['labels'].get('alertname', '?')}[{a.get('status', '?')}]"
                + (f" {a['labels'][c.LONG_WINDOW_LABEL]}" if c.LONG_WINDOW_LABEL in a["labels"] else "")
                for a in payload.get("alerts", [])
            }
        )
        sent.add_row(
            _ago(snapshot.at, note["received_at"]),
            note["receiver"],
            payload.get("status", "?"),
            ", ".join(names),
        )
    parts.append(sent)

    faults = Text("faults: ")
    if not snapshot.faults:
        faults.append("none (make fault FAULT=... to break something)", style="green")
    for what, since in snapshot.faults.values():
        faults.append(f"[{what}, {_ago(snapshot.at, since)}] ", style="bold yellow")
    parts.append(faults)
    return Group(*parts)
