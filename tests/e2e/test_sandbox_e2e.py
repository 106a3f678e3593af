"""The sandbox broken on purpose, at the cluster's intervals (scrapes 30 s, rules 60 s, Alertmanager's
generated timers), until the notifications reach the sink. It runs two services of two teams: the orders
API (team orders) and the example inventory API (team warehouse); each team's pages and tickets reach its
own receivers. The tests run in this order on one sandbox (each leaves it healthy for the next):

1. added latency -> a page of the latency SLO reaches the orders team (first: a Postgres outage also
   makes requests slow, 2 s pool timeout, which would fire the latency SLO by itself);
2. Postgres stopped -> the availability SLO's fast-burn page (1h/5m) reaches the orders team; Postgres
   started; the warehouse team was notified of nothing;
3. AMP stand-in down 70 s (while the availability alert resolves) -> no gap in the received series;
4. the inventory API's stock file gone -> its availability page reaches the warehouse team, and every
   notification so far went to the team whose service it is about (run while the orders page resolves:
   it adds no time);
5. the resolved notification of the orders page reaches the orders team (Alertmanager's group_interval,
   5 min, paces it);
6. Postgres restarted -> every order committed before is still there;
7. every dashboard panel whose series exist in the receiver returns data over the run (the faults above
   left 503s, slow requests, recorded SLO series and ALERTS to show).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from harness.alerting import alerts_in
from harness.stack import APP_DATABASE, http_ok, wait_until
from observability import alertmanager
from observability import conventions as c
from observability.dashboards import folders
from observability.dashboards.webapp import WEBAPP_SELECTOR
from observability.model.load import load_default
from observability.model.promql import selectors
from sandbox.core import Sandbox
from tests.dashboards.queries import panel_queries
from tests.e2e.conftest import TIMINGS

pytestmark = pytest.mark.integration

AVAILABILITY = "availability"  # sloth_slo of services/orders-api/slos.yaml (and of the inventory API's)
LATENCY = "latency"
# The teams of services/teams.yaml and examples/services/teams.yaml, their services and page receivers.
ORDERS, WAREHOUSE = "orders", "warehouse"
SERVICE_OF = {ORDERS: "orders-api", WAREHOUSE: "inventory-api"}
ORDERS_PAGE = alertmanager.team_receiver(ORDERS, c.PAGE)  # orders-page
WAREHOUSE_PAGE = alertmanager.team_receiver(WAREHOUSE, c.PAGE)  # warehouse-page
FAST = {c.LONG_WINDOW_LABEL: "1h", c.SHORT_WINDOW_LABEL: "5m"}
# The resolved notification needs the 5m window clear of the outage's 503s (10/s, open-loop load), then
# Alertmanager's group_interval: about 10 min after recovery (598 s measured).
NOTIFICATION_TIMEOUT = 12 * 60
AMP_DOWN_SECONDS = 70
# Shared between the ordered tests of this module.
STATE: dict[str, Any] = {}
# Before the sandbox starts (the module is imported first): the panels' range covers the whole run.
MODULE_IMPORTED_AT = time.time()
# Dashboard variables as a user with "All" selected sends them (tests.dashboards.queries fills the
# interval variables).
ALL_SELECTED = {"$cluster": ".*", "$environment": ".*", "$namespace": ".*"}


def first_notification(
    sandbox: Sandbox, after: float, status: str, receiver: str, match: Callable[[Mapping[str, Any]], bool]
) -> Mapping[str, Any] | None:
    """The first notification to `receiver` received after `after` carrying an alert with `status`
    whose labels pass `match`."""
    for note in sandbox.sink.notifications():
        if note["received_at"] < after or note["receiver"] != receiver:
            continue
        if any(a["status"] == status and match(a["labels"]) for a in alerts_in(note)):
            return note
    return None


def wait_for_notification(
    sandbox: Sandbox,
    after: float,
    status: str,
    match: Callable[[Mapping[str, Any]], bool],
    receiver: str = ORDERS_PAGE,
) -> Mapping[str, Any] | None:
    found: list[Mapping[str, Any]] = []

    def arrived() -> bool:
        note = first_notification(sandbox, after, status, receiver, match)
        if note is not None:
            found.append(note)
        return note is not None

    wait_until(arrived, attempts=NOTIFICATION_TIMEOUT // 2, interval=2)
    return found[0] if found else None


def slo_page(slo: str, **labels: str) -> Callable[[Mapping[str, Any]], bool]:
    wanted = {c.SLO_LABEL: slo, c.SEVERITY_LABEL: c.PAGE, **labels}
    return lambda got: wanted.items() <= got.items()


def misrouted(sandbox: Sandbox) -> list[tuple[str, str]]:
    """(receiver, alert) of every SLO alert a notification carried to a receiver not of its own team: a
    team's receivers are `<team>-page` and `<team>-ticket`; its alerts name their service."""
    wrong = []
    for note in sandbox.sink.notifications():
        for alert in alerts_in(note):
            labels = alert["labels"]
            if c.SERVICE_LABEL not in labels:
                continue  # a platform alert: the platform's own receivers
            team = labels.get(c.TEAM_LABEL, "")
            owner = next((t for t, service in SERVICE_OF.items() if service == labels[c.SERVICE_LABEL]), "")
            if team != owner or not note["receiver"].startswith(f"{owner}-"):
                wrong.append((note["receiver"], f"{labels.get('alertname')} team={team!r}"))
    return wrong


def received_by(sandbox: Sandbox, team: str) -> list[str]:
    """The receivers of `team` that got any notification so far."""
    return [n["receiver"] for n in sandbox.sink.notifications() if n["receiver"].startswith(f"{team}-")]


def diagnostics(sandbox: Sandbox) -> str:
    notes = [(n["receiver"], n["payload"].get("status")) for n in sandbox.sink.notifications()]
    return (
        f"load statuses {dict(sandbox.load.statuses) if sandbox.load else {}}; notifications {notes};"
        f"\nreceiver log: {sandbox.receiver.log()[-1500:]}"
        f"\nalertmanager log: {sandbox.alertmanager.log()[-1500:]}"
    )


def record(name: str, seconds: float, capsys: pytest.CaptureFixture[str]) -> None:
    TIMINGS[name] = seconds
    with capsys.disabled():
        print(f"\n{name}: {seconds:.1f} s")


def test_added_latency_pages_on_the_latency_slo(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.wait_for_traffic(), diagnostics(sandbox)
    paged = [n for n in sandbox.sink.notifications() if n["receiver"].endswith(c.PAGE)]
    assert paged == [], "a page before any fault"

    start = time.time()
    sandbox.apply("add-latency")
    note = wait_for_notification(sandbox, start, "firing", slo_page(LATENCY))
    sandbox.apply("remove-latency")
    assert note is not None, f"no latency page within {NOTIFICATION_TIMEOUT} s; {diagnostics(sandbox)}"
    record("added latency -> latency SLO page at the sink", note["received_at"] - start, capsys)
    assert sandbox.load is not None
    assert sandbox.load.statuses[0] == 0, "the added latency timed requests out"


def test_postgres_outage_pages_on_the_availability_slo(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.time()
    sandbox.apply("stop-postgres")
    try:
        note = wait_for_notification(sandbox, start, "firing", slo_page(AVAILABILITY, **FAST))
    finally:
        sandbox.apply("start-postgres")
    STATE["recovered_at"] = time.time()
    assert note is not None, f"no availability page within {NOTIFICATION_TIMEOUT} s; {diagnostics(sandbox)}"
    STATE["paged_at"] = note["received_at"]
    record("Postgres stopped -> availability page (1h/5m) at the sink", note["received_at"] - start, capsys)
    assert sandbox.load is not None
    assert sandbox.load.statuses[503] > 0
    # Two orders faults so far, both the orders team's: the warehouse team heard of neither.
    assert received_by(sandbox, WAREHOUSE) == []
    assert misrouted(sandbox) == []


def test_amp_stand_in_down_leaves_no_gap(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The agent keeps scraping while the receiver is down and back-fills afterwards: every 30 s scrape
    of the web app from before the outage to after it is in the receiver (`up` of the pods job)."""
    receiver = sandbox.receiver
    assert wait_until(lambda: sandbox.pg.running and _app_ready(sandbox), attempts=60, interval=1)
    down_at = time.time()
    sandbox.apply("stop-amp")
    time.sleep(AMP_DOWN_SECONDS)
    sandbox.apply("start-amp")
    up_at = time.time()
    interval = sandbox.scrape_interval_seconds
    selector = "up{" + ", ".join(f'{k}="{v}"' for k, v in sorted(WEBAPP_SELECTOR.items())) + "}"
    window_start, window_end = down_at - 2 * interval, up_at + 2 * interval

    def samples() -> list[float]:
        result = receiver.query(f"{selector}[{int(time.time() - window_start) + 1}s]")
        return [float(t) for t, _ in result[0]["values"]] if result else []

    # Back-filled once the receiver holds scrapes past the outage (the agent retries with backoff).
    filled = wait_until(lambda: any(t > window_end for t in samples()), attempts=60, interval=2)
    backfilled_after = time.time() - up_at
    stamps = sorted(t for t in samples() if window_start <= t <= window_end)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert filled, f"no scrapes after the outage reached the receiver; {diagnostics(sandbox)}"
    record("AMP stand-in back -> every queued scrape received", backfilled_after, capsys)
    assert stamps, "no scrapes around the outage"
    assert stamps[0] < down_at, stamps
    assert stamps[-1] > up_at, stamps
    assert max(gaps) < 1.5 * interval, f"gap of {max(gaps):.0f} s in {selector}: {stamps}"


def _app_ready(sandbox: Sandbox) -> bool:
    return http_ok(f"{sandbox.stack.app_url}/readyz")


def test_an_inventory_fault_pages_the_warehouse_team_only(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs while the orders page of the Postgres outage waits to resolve (next test): no added time."""
    assert received_by(sandbox, WAREHOUSE) == []
    start = time.time()
    sandbox.apply("break-inventory")
    try:
        page = slo_page(
            AVAILABILITY, **FAST, **{c.SERVICE_LABEL: SERVICE_OF[WAREHOUSE], c.TEAM_LABEL: WAREHOUSE}
        )
        note = wait_for_notification(sandbox, start, "firing", page, receiver=WAREHOUSE_PAGE)
    finally:
        sandbox.apply("fix-inventory")
    assert note is not None, f"no inventory page within {NOTIFICATION_TIMEOUT} s; {diagnostics(sandbox)}"
    record("inventory 503s -> warehouse page (1h/5m) at the sink", note["received_at"] - start, capsys)
    assert sandbox.inventory_load is not None
    assert sandbox.inventory_load.statuses[503] > 0
    # Every notification so far, of either team's fault, reached that team's receivers and no other's: the
    # orders team got no inventory alert (only its own, resolving), the warehouse team no orders alert.
    assert misrouted(sandbox) == []


def test_recovery_sends_the_resolved_notification(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # Runs after the outage test in this module's order: without its recovery there is nothing to resolve,
    # and that is a failure, not a reason to skip.
    assert "recovered_at" in STATE, "the Postgres outage test did not reach recovery (see its failure)"
    note = wait_for_notification(sandbox, STATE["paged_at"], "resolved", slo_page(AVAILABILITY, **FAST))
    assert note is not None, f"no resolved notification; {diagnostics(sandbox)}"
    record(
        "Postgres back -> resolved notification at the sink",
        note["received_at"] - STATE["recovered_at"],
        capsys,
    )


def test_postgres_restart_keeps_every_committed_order(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sandbox.load is not None
    assert wait_until(lambda: len(sandbox.load.created) > 0 if sandbox.load else False, attempts=60)
    committed = list(sandbox.load.created)  # each id came back in a 201: its transaction committed
    start = time.time()
    sandbox.apply("stop-postgres")
    sandbox.apply("start-postgres")
    record("Postgres restart (stop + start)", time.time() - start, capsys)
    with sandbox.pg.superuser_connect(APP_DATABASE) as conn:
        present = {row[0] for row in conn.execute("SELECT id FROM orders WHERE id = ANY(%s)", [committed])}
    assert len(committed) > 10
    assert present == set(committed)


def runnable_panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard uid, panel, query) of every panel target of the platform's and the services' dashboards,
    with the variables a user with "All" selected sends."""
    models = [model for folder in folders(load_default()) for model in folder.dashboards]
    queries = []
    for uid, panel, expr in panel_queries(models):
        for variable, value in ALL_SELECTED.items():
            expr = expr.replace(variable, value)
        queries.append((uid, panel, expr))
    return queries


def _runs_here(expr: str, present: set[str], labels: dict[str, set[str]]) -> bool:
    """Every series the query reads exists here, and every job or alert name it selects has series here."""
    return all(
        selector.name in present
        and all(
            selector.equals[label] in values for label, values in labels.items() if label in selector.equals
        )
        for selector in selectors(expr)
    )


def test_every_panel_whose_series_exist_here_returns_data(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Last, on what the faults above left in the receiver: scraped series, the recorded SLO series and the
    ALERTS of the alerts that fired. A panel whose every series (and selected job or alert name) exists here
    must return data over the run; the others read what cannot run here (kubelet, cAdvisor) or the ALERTS
    of an alert that did not fire."""
    receiver = sandbox.receiver
    present = set(receiver.metric_names())
    labels = {
        label: set(httpx.get(f"{receiver.url}/api/v1/label/{label}/values", timeout=30).json()["data"])
        for label in ("job", "alertname")
    }
    end = time.time()
    checked, empty = 0, []
    for dashboard, panel, expr in runnable_panel_queries():
        if not _runs_here(expr, present, labels):
            continue
        checked += 1
        params: dict[str, str | float] = {"query": expr, "start": MODULE_IMPORTED_AT, "end": end, "step": 30}
        body = httpx.get(f"{receiver.url}/api/v1/query_range", params=params, timeout=30).json()
        assert body["status"] == "success", (dashboard, panel, expr, body)
        if not body["data"]["result"]:
            empty.append((dashboard, panel, expr))
    with capsys.disabled():
        print(f"\npanel queries run against the receiver: {checked} of {len(runnable_panel_queries())}")
    assert checked >= 20, f"only {checked} panel queries could run here"
    assert empty == []
