"""The live view, from canned query results: what `make local` shows every few seconds."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from observability.model.load import load_default
from sandbox import view

NOW = 1_800_000_000.0


def canned(values: dict[str, float]) -> view.Query:
    def query(promql: str) -> list[dict[str, Any]]:
        return [{"metric": {}, "value": [NOW, str(values[promql])]}] if promql in values else []

    return query


def text(snapshot: view.Snapshot) -> str:
    console = Console(record=True, width=200)
    console.print(view.render(snapshot))
    return console.export_text()


SLOS = load_default().service("orders-api").slos


def test_the_slo_rows_read_the_recorded_series_of_each_slo():
    queries = view.slo_queries(SLOS[0])
    this = '{sloth_id="orders-api-availability"}'
    assert queries["burn_rate"] == f"slo:current_burn_rate:ratio{this}"
    assert queries["budget_remaining"] == f"slo:period_error_budget_remaining:ratio{this}"
    assert queries["error_ratio_5m"] == f"slo:sli_error:ratio_rate5m{this}"


def test_collect_and_render_a_burning_sandbox():
    first = view.slo_queries(SLOS[0])
    values = {
        view.REQUEST_RATE: 9.5,
        view.ERROR_RATIO: 0.25,
        view.P99: 2.0,
        first["error_ratio_5m"]: 0.25,
        first["burn_rate"]: 250.0,
        first["budget_remaining"]: 0.42,
    }
    alerts = [
        {"state": "firing", "labels": {"alertname": "OrdersApiAvailabilityBudgetBurn", "severity": "page",
                                       "long_window": "1h", "short_window": "5m"}},
        {"state": "pending", "labels": {"alertname": "Pending", "severity": "ticket"}},
    ]  # fmt: skip
    notes = [
        {
            "receiver": "page",
            "received_at": NOW - 30,
            "payload": {"status": "firing", "alerts": [{"status": "firing", "labels": alerts[0]["labels"]}]},
        }
    ]
    faults = {"postgres": ("Postgres stopped", NOW - 95)}
    snapshot = view.collect(canned(values), lambda: alerts, notes, faults, now=NOW)
    assert snapshot.request_rate == 9.5
    assert snapshot.slos[0].burn_rate == 250.0
    assert snapshot.slos[1].burn_rate is None  # no series yet: shown as a dash, not as zero
    assert [a["alertname"] for a in snapshot.firing] == ["OrdersApiAvailabilityBudgetBurn"]
    shown = text(snapshot)
    for expected in (
        "9.50/s", "25.00 %", "2.000 s", "orders-api-availability", "orders-api-latency", "250.00x",
        "42.0 %", "99.9 %",
        "OrdersApiAvailabilityBudgetBurn", "1h/5m", "30 s ago", "page", "[Postgres stopped, 95 s ago]",
    ):  # fmt: skip
        assert expected in shown, expected
    assert "Pending" not in shown


def test_an_unreachable_amp_stand_in_is_shown_not_raised():
    def down(promql: str) -> list[dict[str, Any]]:
        raise ConnectionError("refused")

    snapshot = view.collect(down, list, [], {"amp": ("AMP stand-in stopped", NOW - 10)}, now=NOW)
    shown = text(snapshot)
    assert "AMP stand-in: ConnectionError" in shown
    assert "[AMP stand-in stopped, 10 s ago]" in shown


def test_no_fault_says_how_to_break_something():
    assert "make fault FAULT=" in text(view.collect(canned({}), list, [], {}, now=NOW))
