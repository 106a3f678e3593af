"""SLOs -> Prometheus rule groups: sloth's recorded series (same names, labels and meaning, so a dashboard
written for sloth works here) and this platform's burn-rate alerts.

One group per SLO, in evaluation order (a group runs its rules top to bottom; groups run in no set order,
so everything an alert reads is recorded earlier in its own group):
1. The SLI over every alert window: `slo:sli_error:ratio_rate<window>`.
2. The SLO period's error ratio, counted in events: the period sums of the bad and all events per second
   over 5m (`slo:sli_error_events:rate5m`, `slo:sli_total_events:rate5m`), divided. sloth averages the
   5m ratio over time instead, which weighs a quiet night's errors like a busy day's (sloth #241). A raw
   SLI has no events: its period ratio is sloth's time average.
3. sloth's meta series: objective, error budget, period, burn rates, budget remaining, `sloth_slo_info`.
   Budget remaining is scaled by how much of the period the SLO has seen (`slo:history_start:timestamp`,
   when its rules first ran): with 2 h of a 30-day period seen, an outage that failed 15 % of those 2 h's
   requests at a 99.9 % objective has spent 0.15 / 0.001 x 2 h / 30 d = 42 % of the period's budget
   (projected at the traffic seen so far), not -14,900 %. After a whole period it is sloth's
   `1 - period burn rate`.
4. One alert per SLO (`alerting.name`), one instance per window pair of the period's alert windows
   (observability/spec/windows): `page` for the quick and slow page pairs, `ticket` for the ticket
   pairs. Each instance fires and resolves on its own windows (labels `long_window`, `short_window`);
   sloth ORs the two pairs of a severity into one instance. No `for:`: the short window already asks
   that the burn is still going on.

No traffic never gives NaN: the ratios divide by `total > 0` (no series without requests, so no alert and
no hole in the period sums, which count zero events), and a window without bad events counts zero.
"""

from __future__ import annotations

from typing import Any

from observability import conventions as c
from observability.model.service import Service
from observability.model.slo import SLO, EventsSLI, RawSLI, window_query
from observability.model.windows import PAGE, AlertWindows, WindowPair, seconds

# How long the SLO's start survives a pause in rule evaluation (each evaluation carries it forward).
START_LOOKBACK = "1d"
SPEC_VERSION = "prometheus/v1"
MODE = "eks-observability-platform"  # sloth_slo_info's sloth_mode: who generated the rules


def _num(value: float) -> str:
    return f"{value:.12g}"


def groups(service: Service, windows: AlertWindows, *, runbook_base_url: str) -> list[dict[str, Any]]:
    return [_group(slo, service, windows, runbook_base_url) for slo in service.slos]


def _group(slo: SLO, service: Service, windows: AlertWindows, runbook_base_url: str) -> dict[str, Any]:
    ids = {c.SLO_ID_LABEL: slo.id, c.SERVICE_LABEL: slo.service, c.SLO_LABEL: slo.name}
    labels = {**slo.labels, **ids}
    this = "{" + ", ".join(f'{k}="{v}"' for k, v in ids.items()) + "}"
    period = windows.period_window
    budget = _num(slo.error_budget)

    def record(name: str, expr: str, window: str | None = None) -> dict[str, Any]:
        extra = {c.WINDOW_LABEL: window} if window else {}
        return {"record": name, "expr": expr, "labels": {**labels, **extra}}

    rules = _sli_rules(slo.sli, this, windows, record)
    # The share of the period the SLO has seen (1 once it has seen a whole period).
    history = f"clamp_max((time() - {c.SLO_START}{this}) / {seconds(period)}, 1)"
    rules += [
        # When the rules first ran: carried forward by every evaluation, set at the first.
        record(c.SLO_START, f"last_over_time({c.SLO_START}{this}[{START_LOOKBACK}]) or on() vector(time())"),
        record(c.OBJECTIVE_RATIO, f"vector({_num(slo.objective_ratio)})"),
        record(c.ERROR_BUDGET_RATIO, f"vector({budget})"),
        record(c.TIME_PERIOD_DAYS, f"vector({windows.days})"),
        record(c.CURRENT_BURN_RATE, f"{c.sli_error_ratio('5m')}{this} / {budget}"),
        record(c.PERIOD_BURN_RATE, f"{c.sli_error_ratio(period)}{this} / {budget}"),
        record(
            c.PERIOD_ERROR_BUDGET_REMAINING,
            f"1 - {c.PERIOD_BURN_RATE}{this} * on({c.SLO_ID_LABEL}) group_left {history}",
        ),
        {
            "record": c.SLO_INFO,
            "expr": "vector(1)",
            "labels": {
                **labels,
                "sloth_mode": MODE,
                "sloth_objective": str(slo.objective),
                "sloth_spec": SPEC_VERSION,
            },
        },
    ]
    for pair in windows.pairs:
        alert = slo.page if pair.severity == PAGE else slo.ticket
        if not alert.disable:
            rules.append(_alert(slo, service, windows, pair, this, runbook_base_url))
    return {"name": f"slo-{slo.id}", "rules": rules}


def _sli_rules(
    sli: EventsSLI | RawSLI, this: str, windows: AlertWindows, record: Any
) -> list[dict[str, Any]]:
    period = windows.period_window
    if isinstance(sli, RawSLI):
        ratio_5m = c.sli_error_ratio("5m") + this
        return [
            *(
                record(c.sli_error_ratio(w), f"({window_query(sli.error_ratio_query, w)})", w)
                for w in windows.windows
            ),
            record(
                c.sli_error_ratio(period),
                f"sum_over_time({ratio_5m}[{period}])"
                f" / ignoring ({c.WINDOW_LABEL}) count_over_time({ratio_5m}[{period}])",
                period,
            ),
        ]

    def bad(window: str) -> str:
        # Without a single bad event the error query may return nothing: count zero, not none.
        return f"({window_query(sli.error_query, window)}) or ({window_query(sli.total_query, window)}) * 0"

    def ratio(window: str) -> str:
        return f"({bad(window)}) / (({window_query(sli.total_query, window)}) > 0)"

    return [
        record(c.SLI_ERROR_EVENTS, bad("5m"), "5m"),
        record(c.SLI_TOTAL_EVENTS, window_query(sli.total_query, "5m"), "5m"),
        record(
            c.sli_error_ratio("5m"), f"{c.SLI_ERROR_EVENTS}{this} / ({c.SLI_TOTAL_EVENTS}{this} > 0)", "5m"
        ),
        *(record(c.sli_error_ratio(w), ratio(w), w) for w in windows.windows if w != "5m"),
        record(
            c.sli_error_ratio(period),
            f"sum_over_time({c.SLI_ERROR_EVENTS}{this}[{period}])"
            f" / (sum_over_time({c.SLI_TOTAL_EVENTS}{this}[{period}]) > 0)",
            period,
        ),
    ]


def _alert(
    slo: SLO, service: Service, windows: AlertWindows, pair: WindowPair, this: str, runbook_base_url: str
) -> dict[str, Any]:
    budget = _num(slo.error_budget)
    factor = windows.factor(pair)
    threshold = f"({_num(factor)} * {budget})"

    def over(window: str) -> str:
        return f"max without ({c.WINDOW_LABEL}) ({c.sli_error_ratio(window)}{this} > {threshold})"

    alert = slo.page if pair.severity == PAGE else slo.ticket
    days = windows.days
    return {
        "alert": slo.alert_name,
        # The long window first: its error ratio is the alert's value.
        "expr": f"{over(pair.long_window)} and {over(pair.short_window)}",
        "labels": {
            **slo.alert_labels,
            **alert.labels,
            c.SEVERITY_LABEL: pair.severity,
            c.SLOTH_SEVERITY_LABEL: pair.severity,
            c.TEAM_LABEL: service.team,
            c.LONG_WINDOW_LABEL: pair.long_window,
            c.SHORT_WINDOW_LABEL: pair.short_window,
        },
        "annotations": {
            c.SUMMARY: f"{slo.service}: SLO {slo.name} burns its error budget too fast ({pair.severity})",
            c.DESCRIPTION: (
                f"{{{{ $value | humanizePercentage }}}} of events were bad over the last {pair.long_window}. "
                f"SLO {slo.name} allows {_num(slo.error_budget * 100)}% bad over {windows.period} "
                f"(objective: {slo.objective}%"
                + (f", good: {slo.description.rstrip('.')}" if slo.description else "")
                + f"). Fires when the bad share exceeds {_num(factor)}x the budget over {pair.long_window} "
                f"and "
                f"{pair.short_window}; at {_num(factor)}x the {windows.period} budget is gone in "
                f"{days / factor:.3g} days."
            ),
            c.RUNBOOK_URL: c.runbook_url(runbook_base_url, slo.alert_name),
            **slo.alert_annotations,
            **alert.annotations,
        },
    }
