"""The live view, from canned query results: what `make local` shows every few seconds."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from observability.model.load import load_with_examples
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


SERVICES = load_with_examples()  # what the sandbox runs: the orders API and the example inventory API
SLOS = SERVICES.service("orders-api").slos


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
    snapshot = view.collect(canned(values), lambda: alerts, notes, faults, services=SERVICES, now=NOW)
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


def test_every_service_s_slos_are_shown_with_the_team_they_page():
    inventory = view.slo_queries(SERVICES.service("inventory-api").slos[0])
    values = {inventory["burn_rate"]: 200.0, inventory["budget_remaining"]: 0.97}
    alerts = [
        {"state": "firing", "labels": {"alertname": "InventoryApiAvailabilityBudgetBurn", "severity": "page",
                                       "team": "warehouse", "long_window": "1h", "short_window": "5m"}},
    ]  # fmt: skip
    snapshot = view.collect(
        canned(values), lambda: alerts, [], {}, services=SERVICES, now=NOW, history_seconds=600
    )
    assert [(slo.name, slo.team) for slo in snapshot.slos] == [
        ("orders-api-availability", "orders"),
        ("orders-api-latency", "orders"),
        ("inventory-api-availability", "warehouse"),
    ]
    assert [slo.period_seconds for slo in snapshot.slos] == [30 * 86400, 30 * 86400, 28 * 86400]
    shown = text(snapshot).splitlines()
    slo_row = next(line for line in shown if "inventory-api-availability" in line)
    for expected in ("warehouse", "99.5 %", "200.00x", "97.0 % (projected)"):
        assert expected in slo_row, expected
    alert_row = next(line for line in shown if "InventoryApiAvailabilityBudgetBurn" in line)
    assert "warehouse" in alert_row
    assert "1h/5m" in alert_row


def test_an_unreachable_amp_stand_in_is_shown_not_raised():
    def down(promql: str) -> list[dict[str, Any]]:
        raise ConnectionError("refused")

    snapshot = view.collect(
        down, list, [], {"amp": ("AMP stand-in stopped", NOW - 10)}, services=SERVICES, now=NOW
    )
    shown = text(snapshot)
    assert "AMP stand-in: ConnectionError" in shown
    assert "[AMP stand-in stopped, 10 s ago]" in shown


def test_no_fault_says_how_to_break_something():
    assert "make fault FAULT=" in text(view.collect(canned({}), list, [], {}, services=SERVICES, now=NOW))


def resolved_page(at: float) -> dict[str, Any]:
    labels = {"alertname": "OrdersApiAvailabilityBudgetBurn", "severity": "page", "long_window": "1h",
              "short_window": "5m", "slo": SLOS[0].name}  # fmt: skip
    return {
        "receiver": "page",
        "received_at": at,
        "payload": {"status": "resolved", "alerts": [{"status": "resolved", "labels": labels}]},
    }


def test_a_resolved_alert_says_resolved():
    snapshot = view.collect(canned({}), list, [resolved_page(NOW - 12)], {}, services=SERVICES, now=NOW)
    shown = text(snapshot)
    assert "OrdersApiAvailabilityBudgetBurn[resolved] 1h" in shown
    row = next(line for line in shown.splitlines() if "12 s ago" in line)
    assert row.count("resolved") == 2  # the notification's status and the alert's
    assert "OrdersApiAvailabilityBudgetBurn" not in shown.split("firing alerts")[1].split("last notif")[0]


def young(history_seconds: float, budget_remaining: float = 0.9917) -> view.Snapshot:
    """As the rules record it: 93 s of a 30-day period at 250x burn spent 250 x 93 / 2,592,000 = 0.9 %
    of the budget (the budget remaining is scaled by the history seen)."""
    first = view.slo_queries(SLOS[0])
    values = {first["burn_rate"]: 250.0, first["budget_remaining"]: budget_remaining}
    alerts = [
        {"state": "firing", "labels": {"alertname": "OrdersApiAvailabilityBudgetBurn", "severity": "ticket",
                                       "long_window": "3d", "short_window": "6h"}},
    ]  # fmt: skip
    return view.collect(
        canned(values), lambda: alerts, [], {}, services=SERVICES, now=NOW, history_seconds=history_seconds
    )


def test_a_young_sandbox_explains_its_budget_and_long_windows():
    shown = text(young(93))
    assert "99.2 % (projected)" in shown  # what 93 s at 250x spent of a 30-day budget
    assert "history 93 s" in shown
    assert "3d/6h (the 3d window holds 93 s)" in shown
    assert "holds 93 s of history" in shown
    assert "the budget remaining is projected" in shown
    flowing = " ".join(shown.split())  # the note wraps at the console's width
    assert "and the 5m, 30m, 1h, 2h, 6h, 1d, 3d alert windows are computed over those 93 s" in flowing
    assert "can fire every window pair at once" in shown
    assert "and the 2h, 6h, 1d, 3d alert windows" in " ".join(text(young(3600)).split())


def test_with_a_full_period_of_history_the_budget_is_shown_plainly():
    shown = text(young(31 * 86400, budget_remaining=-23.743))
    assert "-2374.3 %" in shown
    assert "projected" not in shown
    assert "(the 3d window holds" not in shown
    assert "window pair at once" not in shown


def test_durations_read_as_a_person_says_them():
    seconds = (93, 720, 3.5 * 3600, 30 * 86400)
    assert [view.duration(s) for s in seconds] == ["93 s", "12 min", "3.5 h", "30 d"]
    assert [view.window_seconds(w) for w in ("5m", "1h", "3d", "30d")] == [300, 3600, 259200, 2592000]


def test_plain_lines_for_output_that_is_not_a_terminal():
    line = view.summary_line(young(93))
    assert "history 93 s" in line
    assert f"{SLOS[0].id}: burn 250.00x, budget 99.2 % (projected)" in line
    assert "firing: OrdersApiAvailabilityBudgetBurn (ticket 3d/6h (the 3d window holds 93 s))" in line
    assert line.endswith("faults: none")
    note = view.notification_line(resolved_page(NOW))
    assert note.endswith("notification to page: resolved: OrdersApiAvailabilityBudgetBurn[resolved] 1h")
