"""The live view of `make local`: what the AMP stand-in and the sink hold now, as a `rich` renderable.

`collect` asks a query function (PromQL -> Prometheus result list), so the tests feed it canned
results; `render` draws a `Snapshot` (in a terminal), `summary_line` and `notification_line` write it as
plain lines (output piped to a file). The SLO series are the recorded ones (observability/conventions.py
names, one per SLO of every service the sandbox runs, each with its team): nothing here re-derives an SLO.

A sandbox holds minutes of history, not the 30 days of an SLO period: every window longer than that
history is computed over the same few minutes. The view says so instead of showing a budget that means
nothing yet ("budget remaining -2474 %" after a 93 s outage) and marks the window pairs that cannot hold
their full length.
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
from observability.dashboards.webapp import WEBAPP_SELECTOR
from observability.model.load import Services
from observability.model.slo import SLO
from observability.model.windows import seconds
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
    name: str  # sloth_id: <service>-<slo>
    team: str  # who its alerts page
    objective: float
    period_seconds: int
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
    history_seconds: float | None = None  # how long the AMP stand-in has been receiving samples
    alert_windows: tuple[str, ...] = ()  # every alert window of the SLOs' periods, shortest first


def _value(query: Query, promql: str) -> float | None:
    result = query(promql)
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if value != value else value  # NaN: no traffic


def alert_windows(services: Services) -> tuple[str, ...]:
    """Every alert window of the services' SLO periods, shortest first."""
    windows = {w for service in services.services for w in services.windows_of(service).windows}
    return tuple(sorted(windows, key=seconds))


def collect(
    query: Query,
    firing_alerts: Callable[[], list[dict[str, Any]]],
    notifications: Sequence[Mapping[str, Any]],
    faults: Mapping[str, tuple[str, float]],
    *,
    services: Services,
    now: float | None = None,
    history_seconds: float | None = None,
) -> Snapshot:
    """One snapshot, with a row for every SLO of `services`. A failing query (the AMP stand-in stopped)
    gives an empty snapshot that says so."""
    at = time.time() if now is None else now
    base: dict[str, Any] = {
        "at": at,
        "notifications": tuple(notifications[-6:]),
        "faults": dict(faults),
        "history_seconds": history_seconds,
        "alert_windows": alert_windows(services),
    }
    try:
        slos = tuple(
            SLOStatus(
                name=slo.id,
                team=service.team,
                objective=slo.objective_ratio,
                period_seconds=seconds(services.windows_of(service).period),
                **{key: _value(query, promql) for key, promql in slo_queries(slo).items()},
            )
            for service in services.services
            for slo in service.slos
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


def window_seconds(window: str) -> int:
    """A Prometheus duration of one unit ("5m", "3d") in seconds."""
    return seconds(window)


def duration(seconds: float) -> str:
    """How long, as a person says it: 45 s, 12 min, 3.5 h, 30 d."""
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _num(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _ago(at: float, since: float) -> str:
    return f"{max(0, int(at - since))} s ago"


def _young(snapshot: Snapshot, seconds: float) -> bool:
    """The AMP stand-in holds less history than a window of `seconds`."""
    return snapshot.history_seconds is not None and snapshot.history_seconds < seconds


def _budget(snapshot: Snapshot, slo: SLOStatus) -> str:
    """The recorded budget remaining; while the history is shorter than the period, it is the share spent
    at the traffic seen so far (the rules scale it by the history: observability/render/slo_rules.py)."""
    if _young(snapshot, slo.period_seconds) and slo.budget_remaining is not None:
        return f"{_pct(slo.budget_remaining, 1)} (projected)"
    return _pct(slo.budget_remaining, 1)


def _windows(snapshot: Snapshot, labels: Mapping[str, str]) -> str:
    if c.LONG_WINDOW_LABEL not in labels:
        return labels.get("instance", labels.get("job", ""))
    long = labels[c.LONG_WINDOW_LABEL]
    windows = f"{long}/{labels.get(c.SHORT_WINDOW_LABEL, '?')}"
    if _young(snapshot, window_seconds(long)) and snapshot.history_seconds is not None:
        windows += f" (the {long} window holds {duration(snapshot.history_seconds)})"
    return windows


def _alert_names(payload: Mapping[str, Any]) -> str:
    """Each alert of a notification as `Name[status] long-window` (plain text: never rich markup)."""
    return ", ".join(
        sorted(
            {
                f"{a['labels'].get('alertname', '?')}[{a.get('status', '?')}]"
                + (f" {a['labels'][c.LONG_WINDOW_LABEL]}" if c.LONG_WINDOW_LABEL in a["labels"] else "")
                for a in payload.get("alerts", [])
            }
        )
    )


def history_note(snapshot: Snapshot) -> str | None:
    """Why a young sandbox's budgets and long windows read as they do; None once they mean something."""
    periods = [slo.period_seconds for slo in snapshot.slos]
    if snapshot.history_seconds is None or not _young(snapshot, max(periods, default=0)):
        return None
    held = duration(snapshot.history_seconds)
    longer = [w for w in snapshot.alert_windows if _young(snapshot, window_seconds(w))]
    windows = f" and the {', '.join(longer)} alert windows" if longer else ""
    return (
        f"The AMP stand-in holds {held} of history, not an SLO period: the budget remaining is projected "
        f"(what was spent over those {held}, at their traffic, of a whole period's budget), and"
        f"{windows.removeprefix(' and') or ' no alert window'} are computed over those {held}, so a short "
        "outage can fire every window pair at once. A cluster with its full history fires only the pairs "
        "the burn has reached."
    )


def render(snapshot: Snapshot) -> Group:
    parts: list[Any] = []
    header = Text(time.strftime("%H:%M:%S", time.localtime(snapshot.at)), style="bold")
    if snapshot.history_seconds is not None:
        header.append(f"   history {duration(snapshot.history_seconds)}")
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

    slos = Table(title="SLOs of every service (recorded series)", title_justify="left")
    for column in ("SLO", "team", "objective", "error ratio 5m", "burn rate", "budget remaining"):
        slos.add_column(column, justify="left" if column in ("SLO", "team") else "right")
    for slo in snapshot.slos:
        burning = slo.burn_rate is not None and slo.burn_rate > 1
        slos.add_row(
            Text(slo.name),
            Text(slo.team),
            _pct(slo.objective, 1),
            _pct(slo.error_ratio_5m),
            Text(_num(slo.burn_rate, "x"), style="bold red" if burning else ""),
            Text(_budget(snapshot, slo)),
        )
    parts.append(slos)
    note = history_note(snapshot)
    if note:
        parts.append(Text(note, style="dim"))

    alerts = Table(title="firing alerts (AMP stand-in)", title_justify="left")
    for column in ("alert", "severity", "team", "windows / target"):
        alerts.add_column(column)
    for labels in snapshot.firing:
        style = "bold red" if labels.get(c.SEVERITY_LABEL) == c.PAGE else ""
        alerts.add_row(
            Text(labels.get("alertname", "?"), style=style),
            Text(labels.get(c.SEVERITY_LABEL, "")),
            Text(labels.get(c.TEAM_LABEL, "")),  # none: a platform alert
            Text(_windows(snapshot, labels)),
        )
    parts.append(alerts)

    sent = Table(title="last notifications (sink)", title_justify="left")
    for column in ("received", "receiver", "status", "alerts"):
        sent.add_column(column)
    for note_ in reversed(snapshot.notifications):
        payload = note_.get("payload", {})
        status = str(payload.get("status", "?"))
        sent.add_row(
            _ago(snapshot.at, note_["received_at"]),
            Text(str(note_["receiver"])),
            Text(status, style="green" if status == "resolved" else ""),
            Text(_alert_names(payload)),
        )
    parts.append(sent)

    faults = Text("faults: ")
    if not snapshot.faults:
        faults.append("none (make fault FAULT=... to break something)", style="green")
    for what, since in snapshot.faults.values():
        faults.append(f"[{what}, {_ago(snapshot.at, since)}] ", style="bold yellow")
    parts.append(faults)
    return Group(*parts)


def summary_line(snapshot: Snapshot) -> str:
    """The snapshot as one plain line, for output that is not a terminal (`make local | tee log`)."""
    parts = [time.strftime("%H:%M:%S", time.localtime(snapshot.at))]
    if snapshot.history_seconds is not None:
        parts.append(f"history {duration(snapshot.history_seconds)}")
    if snapshot.unreachable:
        parts.append(f"{snapshot.unreachable} (no data until it is back)")
    else:
        parts.append(
            f"requests {_num(snapshot.request_rate, '/s')}, errors {_pct(snapshot.error_ratio)}, "
            f"p99 {_num(snapshot.p99_seconds, ' s', 3)}"
        )
        parts += [
            f"{slo.name}: burn {_num(slo.burn_rate, 'x')}, budget {_budget(snapshot, slo)}"
            for slo in snapshot.slos
        ]
        firing = [
            f"{labels.get('alertname', '?')} "
            f"({labels.get(c.SEVERITY_LABEL, '')} {_windows(snapshot, labels)})"
            for labels in snapshot.firing
        ]
        parts.append("firing: " + (", ".join(firing) if firing else "none"))
    faults = [f"{what} {_ago(snapshot.at, since)}" for what, since in snapshot.faults.values()]
    parts.append("faults: " + (", ".join(faults) if faults else "none"))
    return " | ".join(parts)


def notification_line(note: Mapping[str, Any]) -> str:
    """One notification the sink received, as a plain line."""
    payload = note.get("payload", {})
    at = time.strftime("%H:%M:%S", time.localtime(note["received_at"]))
    return f"{at} notification to {note['receiver']}: {payload.get('status', '?')}: {_alert_names(payload)}"
