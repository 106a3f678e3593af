"""SLO specs -> a Prometheus rules document, in sloth's shapes and names (observability/conventions.py).

One group per SLO, in evaluation order (AMP runs a group's rules top to bottom, groups in no set order):
the error ratio over every alert window and over the SLO's period (the average of the 5m ratio, cheap
next to a 30-day rate); the objective, error budget, period, burn rates and budget remaining; then one
alert per SLO (`conventions.slo_alert_name`), with a rule per burn-rate window pair: `page` for 14.4x over
1h and 5m, and for 6x over 6h and 30m; `ticket` for 3x over 1d and 2h, and for 1x over 3d and 6h. Each
pair is its own alert instance (labels `long_window`, `short_window`): it fires and resolves on its own
windows, so a fast burn that stopped resolves within its 5m window while the 6h/30m pair, if the outage
spent 5 % of the budget, holds until the outage leaves its 30m window. Alertmanager groups the pairs of
one SLO and severity into one notification.

No `for:`: the short window already asks that the burn is still going on, and waiting would only add
to the time to page (an outage reaches the 5m ratio within two scrapes and one evaluation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from observability import conventions as c
from observability.slos import ALERT_WINDOWS, BURN_RATE_ALERTS, BurnRateAlert, SLOSpec, checked


def rules_file(specs: Iterable[SLOSpec], *, runbook_base_url: str) -> dict[str, Any]:
    return {"groups": [_group(spec, runbook_base_url) for spec in checked(specs)]}


def _num(value: float) -> str:
    return f"{value:.12g}"


def _group(spec: SLOSpec, runbook_base_url: str) -> dict[str, Any]:
    labels = {c.SLO_LABEL: spec.name, c.SERVICE_LABEL: spec.service}
    this = f'{{{c.SLO_LABEL}="{spec.name}"}}'
    ratio_5m = c.sli_error_ratio("5m") + this
    budget = _num(spec.error_budget)
    records = {
        **{c.sli_error_ratio(window): spec.error_ratio(window) for window in ALERT_WINDOWS},
        c.sli_error_ratio(spec.window): (
            f"sum_over_time({ratio_5m}[{spec.window}]) / count_over_time({ratio_5m}[{spec.window}])"
        ),
        c.OBJECTIVE_RATIO: f"vector({_num(spec.objective)})",
        c.ERROR_BUDGET_RATIO: f"vector({budget})",
        c.TIME_PERIOD_DAYS: f"vector({spec.days})",
        c.CURRENT_BURN_RATE: f"{ratio_5m} / {budget}",
        c.PERIOD_BURN_RATE: f"{c.sli_error_ratio(spec.window)}{this} / {budget}",
        c.PERIOD_ERROR_BUDGET_REMAINING: f"1 - {c.PERIOD_BURN_RATE}{this}",
    }
    rules: list[dict[str, Any]] = [
        {"record": name, "expr": expr, "labels": dict(labels)} for name, expr in records.items()
    ]
    rules += [_alert(spec, pair, this, runbook_base_url) for pair in BURN_RATE_ALERTS]
    return {"name": f"slo-{spec.name}", "rules": rules}


def _alert(spec: SLOSpec, pair: BurnRateAlert, this: str, runbook_base_url: str) -> dict[str, Any]:
    budget = _num(spec.error_budget)
    threshold = f"({_num(pair.factor)} * {budget})"
    # The long window first: its error ratio is the alert's value.
    expr = (
        f"{c.sli_error_ratio(pair.long_window)}{this} > {threshold}"
        f" and {c.sli_error_ratio(pair.short_window)}{this} > {threshold}"
    )
    alert = c.slo_alert_name(spec.name)
    return {
        "alert": alert,
        "expr": expr,
        "labels": {
            c.SEVERITY_LABEL: pair.severity,
            c.SLO_LABEL: spec.name,
            c.SERVICE_LABEL: spec.service,
            c.LONG_WINDOW_LABEL: pair.long_window,
            c.SHORT_WINDOW_LABEL: pair.short_window,
        },
        "annotations": {
            c.SUMMARY: f"{spec.service}: SLO {spec.name} burns its error budget too fast ({pair.severity})",
            c.DESCRIPTION: (
                f"{{{{ $value | humanizePercentage }}}} of requests were bad over the last "
                f"{pair.long_window}. "
                f"SLO {spec.name} allows {_num(spec.error_budget * 100)}% bad over {spec.window} "
                f"(objective: {_num(spec.objective * 100)}% of {spec.good_events}). Fires when the bad share "
                f"exceeds {_num(pair.factor)}x the budget over {pair.long_window} and {pair.short_window}; "
                f"at {_num(pair.factor)}x the {spec.window} budget is gone in "
                f"{spec.days / pair.factor:.3g} days."
            ),
            c.RUNBOOK_URL: c.runbook_url(runbook_base_url, alert),
        },
    }
