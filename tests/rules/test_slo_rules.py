"""The SLO rules as generated from services/orders-api: promtool checks them, and `promtool test rules`
runs every alert through traffic built from the SLOs (just above and just below each burn-rate pair, the
short window holding back and resetting, a 30-day run at half the budget, uneven traffic counted in
events, a young SLO's budget) and checks the recorded values.

The SLOs' facts (objectives, selectors, the Workbook's factors) are literals here, from what the service
file says, never read from the code under test.

Traffic is described in multiples of each SLO's error budget (the burn rate), so one scenario tests
both SLOs at their own thresholds. Request counts are integers, so counters are exact."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from observability import conventions as c
from observability.model.load import load_default
from observability.render.slo_rules import groups
from tests.rules.conftest import Promtool, write_yaml


@dataclass(frozen=True)
class BurnRateAlert:
    severity: str
    long_window: str
    short_window: str
    factor: float


@dataclass(frozen=True)
class SLOSpec:
    """An SLO of services/orders-api/slos.yaml, as the file states it."""

    name: str  # sloth_slo
    objective: float
    kind: str  # availability | latency
    alert: str
    category: str
    service: str = "orders-api"
    selector: tuple[tuple[str, str], ...] = (
        ("job", "orders-api"),
        ("namespace", "orders"),
        ("container", "orders-api"),
    )
    days: int = 30

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def error_budget(self) -> float:
        return round(1 - self.objective, 12)

    @property
    def ids(self) -> dict[str, str]:
        return {"sloth_id": self.id, "sloth_service": self.service, "sloth_slo": self.name}


SLOS = (
    SLOSpec(
        name="availability",
        objective=0.999,
        kind="availability",
        alert="OrdersApiAvailabilityBudgetBurn",
        category="availability",
    ),
    SLOSpec(
        name="latency", objective=0.99, kind="latency", alert="OrdersApiLatencyBudgetBurn", category="latency"
    ),
)
# The SRE Workbook's multi-window, multi-burn-rate pairs for 30 days, with sloth's second ticket pair.
BURN_RATE_ALERTS = (
    BurnRateAlert("page", "1h", "5m", 14.4),
    BurnRateAlert("page", "6h", "30m", 6),
    BurnRateAlert("ticket", "1d", "2h", 3),
    BurnRateAlert("ticket", "3d", "6h", 1),
)
ALERT_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SERVICE_LABELS = {"tier": "1"}  # the file's `labels`, on every series

REPOSITORY = Path(__file__).resolve().parents[2]
BASE_URL = "https://example.invalid/repo/blob/main/docs/runbooks"
RULES = "slo.rules.yml"
CONTEXT = dict(zip(c.EXTERNAL_LABELS, ("test-cluster", "test"), strict=True))
VALUE = "{{ $value | humanizePercentage }}"
ABOVE, BELOW = 1.04, 0.96  # just above and just below a pair's threshold


def minutes(duration: str) -> int:
    return int(duration[:-1]) * {"m": 1, "h": 60, "d": 1440}[duration[-1]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    services = load_default()
    service = services.service("orders-api")
    return {"groups": groups(service, services.windows_of(service), runbook_base_url=BASE_URL)}


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory, document) -> Path:
    return write_yaml(tmp_path_factory.mktemp("slo") / RULES, document)


def alerts(document) -> list[dict[str, Any]]:
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


# --- the file and its contract ------------------------------------------------------------------------


def test_promtool_checks_the_generated_rules(promtool: Promtool, rules_path):
    result = promtool("check", "rules", rules_path)
    # bad and all events over 5m, the SLI windows, the period, start, objective/budget/period/burn rates/
    # remaining, info
    records = 2 + len(ALERT_WINDOWS) + 1 + 1 + 6 + 1
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(SLOS) * (records + len(BURN_RATE_ALERTS))} rules found" in result.stdout


def test_one_group_per_slo_recordings_before_alerts(document):
    assert [group["name"] for group in document["groups"]] == [f"slo-{spec.id}" for spec in SLOS]
    for spec, group in zip(SLOS, document["groups"], strict=True):
        records = [rule["record"] for rule in group["rules"] if "record" in rule]
        assert records == [
            "slo:sli_error_events:rate5m",
            "slo:sli_total_events:rate5m",
            *(f"slo:sli_error:ratio_rate{window}" for window in ALERT_WINDOWS),
            "slo:sli_error:ratio_rate30d",
            "slo:history_start:timestamp",
            "slo:objective:ratio",
            "slo:error_budget:ratio",
            "slo:time_period:days",
            "slo:current_burn_rate:ratio",
            "slo:period_burn_rate:ratio",
            "slo:period_error_budget_remaining:ratio",
            "sloth_slo_info",
        ]
        alerting = len(BURN_RATE_ALERTS)  # one alerting rule per burn-rate window pair, last
        recorded = group["rules"][:-alerting]
        for rule in recorded:
            window = {
                "sloth_window": rule["record"].removeprefix("slo:sli_error:ratio_rate")[-3:].lstrip("e")
            }
            expected = {**SERVICE_LABELS, **spec.ids}
            if rule["record"].startswith(("slo:sli_error", "slo:sli_total")):
                expected["sloth_window"] = (
                    "5m" if rule["record"].endswith(":rate5m") else rule["record"].split("ratio_rate")[1]
                )
            if rule["record"] == "sloth_slo_info":
                expected |= {
                    "sloth_mode": "eks-observability-platform",
                    "sloth_spec": "prometheus/v1",
                    "sloth_objective": f"{spec.objective * 100:g}",
                }
            assert rule["labels"] == expected, (rule["record"], window)
        assert [rule.get("alert") for rule in group["rules"][-alerting:]] == [spec.alert] * alerting


def test_burn_rate_policy_is_the_sre_workbooks_with_sloths_ticket_pair():
    assert [(p.severity, p.long_window, p.short_window, p.factor) for p in BURN_RATE_ALERTS] == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6),
        ("ticket", "1d", "2h", 3),
        ("ticket", "3d", "6h", 1),
    ]
    assert set(ALERT_WINDOWS) == {w for p in BURN_RATE_ALERTS for w in (p.long_window, p.short_window)}


def pair_labels(pair: BurnRateAlert) -> dict[str, str]:
    return {c.LONG_WINDOW_LABEL: pair.long_window, c.SHORT_WINDOW_LABEL: pair.short_window}


def test_page_expressions(document):
    this = '{sloth_id="orders-api-availability", sloth_service="orders-api", sloth_slo="availability"}'
    pages = {
        rule["labels"][c.LONG_WINDOW_LABEL]: rule["expr"]
        for rule in alerts(document)
        if rule["alert"] == "OrdersApiAvailabilityBudgetBurn" and rule["labels"]["severity"] == "page"
    }
    assert pages == {
        "1h": (
            f"max without (sloth_window) (slo:sli_error:ratio_rate1h{this} > (14.4 * 0.001))"
            f" and max without (sloth_window) (slo:sli_error:ratio_rate5m{this} > (14.4 * 0.001))"
        ),
        "6h": (
            f"max without (sloth_window) (slo:sli_error:ratio_rate6h{this} > (6 * 0.001))"
            f" and max without (sloth_window) (slo:sli_error:ratio_rate30m{this} > (6 * 0.001))"
        ),
    }


def test_alert_labels_and_annotations(document):
    for spec in SLOS:
        rules = [rule for rule in alerts(document) if rule["alert"] == spec.alert]
        assert [rule["labels"] for rule in rules] == [
            {
                "category": spec.category,
                "severity": pair.severity,
                "sloth_severity": pair.severity,
                "team": "orders",
                **pair_labels(pair),
            }
            for pair in BURN_RATE_ALERTS
        ]
        for rule in rules:
            name = rule["alert"]
            assert "for" not in rule  # the short window is the wait; see observability/slo_rules.py
            assert list(rule["annotations"]) == [c.SUMMARY, c.DESCRIPTION, c.RUNBOOK_URL]
            assert rule["annotations"][c.RUNBOOK_URL] == f"{BASE_URL}/{name}.md"
            assert VALUE in rule["annotations"][c.DESCRIPTION]
            assert f"{spec.objective * 100:g}%" in rule["annotations"][c.DESCRIPTION]


def sli_5m(spec: SLOSpec) -> str:
    """The SLI over 5m as the runbook shows it: the file's queries, no bad events counting zero, and no
    ratio without requests."""
    slo = next(slo for slo in load_default().service(spec.service).slos if slo.name == spec.name)
    error, total = (query.replace("{{.window}}", "5m") for query in slo.sli.queries())
    return f"(({error}) or ({total}) * 0) / (({total}) > 0)"


def test_every_slo_alert_has_a_runbook_with_its_queries(document):
    for spec in SLOS:
        runbook = (REPOSITORY / c.runbook_path(spec.alert)).read_text()
        assert runbook.startswith(f"# {spec.alert}\n")
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Remedies"):
            assert section in runbook
        # The SLI exactly as recorded: a rule change without a runbook change fails here.
        assert f"```promql\n{sli_5m(spec)}\n```" in runbook
        for command in ("kubectl -n orders", "deployment/orders-api", "postgres"):
            assert command in runbook


def test_runbook_queries_are_valid_promql(promtool: Promtool, tmp_path):
    queries = [
        query.strip()
        for path in sorted((REPOSITORY / c.RUNBOOK_DIR).glob("*BudgetBurn.md"))
        for query in re.findall(r"```promql\n(.*?)```", path.read_text(), flags=re.DOTALL)
    ]
    assert len(queries) >= 2 * 10
    rules = [{"record": f"runbook:query:{i}", "expr": query} for i, query in enumerate(queries)]
    path = write_yaml(tmp_path / "runbook.rules.yml", {"groups": [{"name": "q", "rules": rules}]})
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- traffic ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """`minutes` of traffic at `volume` times the base request rate, with bad requests at `burn` times
    each SLO's error budget."""

    minutes: int
    burn: float = 0.0
    volume: int = 1


@dataclass
class Traffic:
    """Samples every `step` minutes, rules evaluated every `evaluation` minutes; sparse evaluations keep
    multi-day runs fast. Samples every minute: Prometheus 3's ranges leave out their start, so a 5m range
    holds 5 samples (with 5m samples it would hold one, and rate() needs two), and rate() extrapolates the
    range's first minute at the range's average rate, which is that minute's own in a steady segment."""

    segments: Sequence[Segment]
    step: int = 1
    evaluation: int = 5
    requests: int = 1_000_000  # per step at volume 1, split over two pods
    _counts: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    def counts(self, spec: SLOSpec) -> list[tuple[int, int]]:
        """(requests, bad requests) per step: integers, `burn` x budget to within 1e-6."""
        if spec.name not in self._counts:
            out = []
            for segment in self.segments:
                assert segment.minutes % self.step == 0
                total = self.requests * segment.volume
                bad = round(total * segment.burn * spec.error_budget)  # the model reads these counts
                out += [(total, bad)] * (segment.minutes // self.step)
            self._counts[spec.name] = out
        return self._counts[spec.name]

    def ratio(self, spec: SLOSpec, at: int, window: int) -> float | None:
        """The error ratio the rules should see over (at - window, at]; None without traffic."""
        counts = self.counts(spec)[max(0, (at - window) // self.step) : at // self.step]
        total = sum(t for t, _ in counts)
        return sum(b for _, b in counts) / total if total else None

    def firing(self, spec: SLOSpec, at: int, pairs: Sequence[BurnRateAlert]) -> float | None:
        """The alert's value (the long window's ratio) if a pair fires, else None."""
        for pair in pairs:
            long = self.ratio(spec, at, minutes(pair.long_window)) or 0
            short = self.ratio(spec, at, minutes(pair.short_window)) or 0
            for ratio in (long, short):  # never test at a threshold itself: float noise would decide
                assert not math.isclose(ratio, pair.factor * spec.error_budget, rel_tol=1e-3), (pair, at)
            if min(long, short) > pair.factor * spec.error_budget:
                return long
        return None

    def period_ratio(self, spec: SLOSpec, at: int) -> float:
        """The 30-day ratio as recorded, counted in events: the bad requests of the 5m windows the
        evaluations saw over all their requests (not the mean of their ratios)."""
        windows = [
            self.counts(spec)[max(0, (t - 5) // self.step) : t // self.step]
            for t in range(self.evaluation, at + 1, self.evaluation)
        ]
        bad = sum(b for window in windows for _, b in window)
        return bad / sum(t for window in windows for t, _ in window)


def counter(increments: Sequence[int]) -> str:
    """promtool's expanding notation for a counter starting at 0 and growing by `increments`."""
    parts, value, i = ["0"], 0, 0
    while i < len(increments):
        run = 1
        while i + run < len(increments) and increments[i + run] == increments[i]:
            run += 1
        parts.append(f"{value + increments[i]}+{increments[i]}x{run - 1}")
        value += increments[i] * run
        i += run
    return " ".join(parts)


def labels(**values: str) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in values.items()) + "}"


def input_series(spec: SLOSpec, traffic: Traffic) -> list[dict[str, str]]:
    """Two pods of the service (one gets all the bad requests: only the per-service sum sees the
    ratio the traffic asks for), plus, for each label of the selector, a failing decoy differing in
    that label only: the rules must leave it out."""
    counts = traffic.counts(spec)
    selector = dict(spec.selector)
    service = {**CONTEXT, **selector, "method": "GET", "route": "/orders"}
    targets = [
        ({**service, "pod": "pod-a"}, [(t // 2, b) for t, b in counts]),
        ({**service, "pod": "pod-b"}, [(t // 2, 0) for t, _ in counts]),
    ]
    for label in selector:
        decoy = {**service, label: f"{selector[label]}-other", "pod": "decoy"}
        targets.append((decoy, [(t // 2, t // 2) for t, _ in counts]))
    series = []
    for target, steps in targets:
        good, bad = [t - b for t, b in steps], [b for _, b in steps]
        if spec.kind == "availability":
            # A tenth of the good requests are 4xx: the client's fault, not the service's.
            metric = "http_requests_total"
            series.append((f"{metric}{labels(**target, status='200')}", [g - g // 10 for g in good]))
            series.append((f"{metric}{labels(**target, status='404')}", [g // 10 for g in good]))
            if any(bad):  # a client creates the 5xx series on its first 5xx
                series.append((f"{metric}{labels(**target, status='503')}", bad))
        else:
            metric = "http_request_duration_seconds"
            total = [g + b for g, b in zip(good, bad, strict=True)]
            series.append((f"{metric}_bucket{labels(**target, le='0.3')}", good))
            series.append((f"{metric}_bucket{labels(**target, le='+Inf')}", total))
            series.append((f"{metric}_count{labels(**target)}", total))
    return [{"series": name, "values": counter(values)} for name, values in series]


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"  # Prometheus' humanizePercentage: Sprintf("%.4g%%", v*100)


def alert_test(document, spec: SLOSpec, traffic: Traffic, at: int) -> dict[str, Any]:
    """What promtool must see at minute `at`: the page and the ticket exactly when one of their pairs
    fires, with the alert's value in the description."""
    expected = []
    for rule in alerts(document):
        if rule["alert"] != spec.alert:
            continue
        pairs = [pair for pair in BURN_RATE_ALERTS if pair_labels(pair).items() <= rule["labels"].items()]
        value = traffic.firing(spec, at, pairs)
        if value is not None:
            annotations = dict(rule["annotations"])
            annotations[c.DESCRIPTION] = annotations[c.DESCRIPTION].replace(VALUE, humanize_percentage(value))
            exp_labels = {**rule["labels"], **CONTEXT, **spec.ids, **SERVICE_LABELS}
            expected.append({"exp_labels": exp_labels, "exp_annotations": annotations})
    return {"eval_time": f"{at}m", "alertname": spec.alert, "exp_alerts": expected}


@dataclass
class Scenario:
    traffic: Traffic
    # minute -> the severities of `scope` that must be firing then, for every SLO. Severities out of
    # scope are still checked by promtool (as the traffic model says), only not stated here.
    checks: dict[int, set[str]]
    scope: tuple[str, ...] = c.SEVERITIES
    exprs: list[dict[str, Any]] = field(default_factory=list)  # promql_expr_test entries


def clean(duration: str, volume: int = 1) -> Segment:
    return Segment(minutes(duration), 0, volume)


def burn(duration: str, rate: float, volume: int = 1) -> Segment:
    return Segment(minutes(duration), rate, volume)


# What comes before each pair's burn: its long window clean, so that the burn alone fills it. Before
# the 1d burn, 2 days at 4x the traffic keep the 3d window below 1x; ticket runs are evaluated every 30m.
HISTORY = {
    "1h": ([clean("6h")], 5),
    "6h": ([clean("6h")], 5),
    "1d": ([clean("2d", volume=4)], 30),
    "3d": ([clean("3d")], 30),
}


def pair_scenarios() -> dict[str, Scenario]:
    """Per burn-rate pair, with the other pair of its severity kept quiet: both windows just above the
    threshold fire; both just below, the long one just below (the short one well above), or the short
    one just below (the long one well above) do not; and a burn at 1.9x, which the long window holds
    back for its first third, fires, and ends soon after it stops (the short window)."""
    out = {}
    for pair in BURN_RATE_ALERTS:
        long, short = minutes(pair.long_window), minutes(pair.short_window)
        before, evaluation = HISTORY[pair.long_window]
        start = sum(segment.minutes for segment in before)
        name = f"{pair.severity}-{pair.long_window}-{pair.short_window}"

        def burst(long_ratio: float, short_ratio: float, pair=pair, long=long, short=short) -> list[Segment]:
            """The long window at `long_ratio` x the pair's rate, its last `short` at `short_ratio`."""
            rest = (long_ratio * long - short_ratio * short) / (long - short)
            return [Segment(long - short, rest * pair.factor), Segment(short, short_ratio * pair.factor)]

        for case, (long_ratio, short_ratio), fires in (
            ("above", (ABOVE, ABOVE), {pair.severity}),
            ("below", (BELOW, BELOW), set()),
            ("long-below", (BELOW, 1.5), set()),
            ("short-below", (1.5, BELOW), set()),
        ):
            traffic = Traffic([*before, *burst(long_ratio, short_ratio)], evaluation=evaluation)
            out[f"{name}-{case}"] = Scenario(traffic, {start + long: fires}, (pair.severity,))
        traffic = Traffic(
            [*before, Segment(long, pair.factor * 1.9), clean(pair.long_window)], evaluation=evaluation
        )
        checks = {
            start + long // 3: set(),  # the short window burns, the long one holds it back
            start + long: {pair.severity},
            start + long + short + evaluation: set(),  # the burn stopped: the short window ends the alert
        }
        out[f"{name}-spike"] = Scenario(traffic, checks, (pair.severity,))
    return out


def rounded(value: float, to: float = 1e-9) -> float:
    """PromQL's round(value, to), as Go computes it: floor(v * (1/to) + 0.5) / (1/to)."""
    inverse = 1.0 / to
    return math.floor(value * inverse + 0.5) / inverse


def expect(
    expr: str,
    at: int,
    value: float | None,
    spec: SLOSpec,
    *,
    context: bool = True,
    window: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A promql_expr_test of `expr` rounded to 1e-9 (PromQL's float noise), or of its absence."""
    got = {**SERVICE_LABELS, **spec.ids, **(CONTEXT if context else {}), **(window or {})}
    samples = [] if value is None else [{"labels": labels(**got), "value": rounded(value)}]
    return {"expr": f"round({expr}, 1e-9)", "eval_time": f"{at}m", "exp_samples": samples}


def steady_month() -> Scenario:
    """30 days at half the budget, alternating 0.2x and 0.8x by the hour; checked every 6 hours, and
    the period's ratio at the end (evaluated hourly: the hour's last 5 minutes)."""
    traffic = Traffic([burn("1h", 0.2), burn("1h", 0.8)] * (30 * 12), evaluation=60)
    month = minutes("30d")
    exprs = []
    for spec in SLOS:
        this = f'{{sloth_id="{spec.id}"}}'
        assert math.isclose(traffic.period_ratio(spec, month), 0.5 * spec.error_budget)
        period = {"sloth_window": "30d"}
        exprs += [
            expect(f"slo:sli_error:ratio_rate30d{this}", month, 0.5 * spec.error_budget, spec, window=period),
            expect(f"slo:period_burn_rate:ratio{this}", month, 0.5, spec, window=period),
            # A whole period seen: remaining is 1 - the period's burn rate.
            expect(f"slo:period_error_budget_remaining:ratio{this}", month, 0.5, spec, window=period),
        ]
    return Scenario(traffic, {at: set() for at in range(360, month + 1, 360)}, exprs=exprs)


def uneven_week() -> Scenario:
    """Seven days, each 12 busy hours without errors at 10x the traffic and 12 quiet hours at 1x with
    bad requests at 5.5x the budget (sloth #241): counted in events, 5.5 / (10 + 1) = 0.5x the budget
    was bad (a mean of the ratios would say 2.75x). Evaluated hourly."""
    traffic = Traffic([clean("12h", volume=10), burn("12h", 5.5)] * 7, evaluation=60)
    week = minutes("7d")
    exprs = []
    for spec in SLOS:
        this = f'{{sloth_id="{spec.id}"}}'
        period = {"sloth_window": "30d"}
        exprs += [
            expect(f"slo:sli_error:ratio_rate30d{this}", week, 0.5 * spec.error_budget, spec, window=period),
            expect(f"slo:period_burn_rate:ratio{this}", week, 0.5, spec, window=period),
            # 7 of the period's 30 days seen at 0.5x: 0.5 x 7/30 of the budget spent.
            expect(
                f"slo:period_error_budget_remaining:ratio{this}", week, 1 - 0.5 * 7 / 30, spec, window=period
            ),
        ]
    return Scenario(traffic, {week: set()}, exprs=exprs)


def recorded_values() -> Scenario:
    """Every recorded series at a steady 2.5x burn, after 2h: every window sees the same ratio."""
    rate, at = 2.5, 120
    exprs = []
    for spec in SLOS:
        this = f'{{sloth_id="{spec.id}"}}'
        ratio = rate * spec.error_budget
        exprs += [
            expect(f"slo:sli_error:ratio_rate{w}{this}", at, ratio, spec, window={"sloth_window": w})
            for w in (*ALERT_WINDOWS, "30d")
        ]
        five, period = {"sloth_window": "5m"}, {"sloth_window": "30d"}
        exprs += [
            # 1,000,000 requests a minute: 5 minutes of them over 300 s.
            expect(f"slo:sli_error_events:rate5m{this}", at, ratio * 5_000_000 / 300, spec, window=five),
            expect(f"slo:sli_total_events:rate5m{this}", at, 5_000_000 / 300, spec, window=five),
            expect(f"slo:objective:ratio{this}", at, spec.objective, spec, context=False),
            expect(f"slo:error_budget:ratio{this}", at, spec.error_budget, spec, context=False),
            expect(f"slo:time_period:days{this}", at, spec.days, spec, context=False),
            expect(f"slo:history_start:timestamp{this}", at, 0, spec, context=False),
            expect(f"slo:current_burn_rate:ratio{this}", at, rate, spec, window=five),
            expect(f"slo:period_burn_rate:ratio{this}", at, rate, spec, window=period),
            # 2 hours of 30 days seen: 2.5x for 2 h spent 2.5 x 2 / 720 of the budget (not 150 %).
            expect(
                f"slo:period_error_budget_remaining:ratio{this}", at, 1 - rate * 2 / 720, spec, window=period
            ),
        ]
    # 2.5x over the 2 hours there are: above 1x over "3d" and 6h, below every other pair.
    return Scenario(Traffic([burn("2h", rate)]), {at: {c.TICKET}}, exprs=exprs)


def no_bad_requests() -> Scenario:
    """Without a single 5xx (no 5xx series at all) the ratio is 0, not absent."""
    exprs = []
    for spec in SLOS:
        this = f'{{sloth_id="{spec.id}"}}'
        exprs += [
            expect(f"slo:sli_error:ratio_rate5m{this}", 120, 0, spec, window={"sloth_window": "5m"}),
            expect(f"slo:sli_error:ratio_rate30d{this}", 120, 0, spec, window={"sloth_window": "30d"}),
            expect(
                f"slo:period_error_budget_remaining:ratio{this}", 120, 1, spec, window={"sloth_window": "30d"}
            ),
        ]
    return Scenario(Traffic([clean("2h")]), {120: set()}, exprs=exprs)


def quiet_hours() -> Scenario:
    """An hour without requests leaves no ratio (not NaN) and adds no events, so the period's ratio is
    the bad share of the requests there were."""
    traffic = Traffic([clean("1h"), burn("1h", 1.5), clean("1h", volume=0)])
    exprs = []
    for spec in SLOS:
        this = f'{{sloth_id="{spec.id}"}}'
        exprs += [
            expect(f"slo:sli_error:ratio_rate5m{this}", 180, None, spec),
            expect(f"slo:current_burn_rate:ratio{this}", 180, None, spec),
            expect(
                f"slo:sli_error:ratio_rate30d{this}",
                180,
                traffic.period_ratio(spec, 180),
                spec,
                window={"sloth_window": "30d"},
            ),
        ]
        assert math.isclose(traffic.period_ratio(spec, 180), 1.5 * spec.error_budget / 2, rel_tol=0.02)
    return Scenario(traffic, {180: set()}, exprs=exprs)


SCENARIOS = {
    **pair_scenarios(),
    "steady-30-days-at-half-the-budget": steady_month(),
    "recorded-values": recorded_values(),
    "no-bad-requests": no_bad_requests(),
    "quiet-hours": quiet_hours(),
    "uneven-week-counted-in-events": uneven_week(),
}


def test_scenarios_are_what_they_claim(document):
    """The traffic model agrees with each scenario's stated intent: a wrong scenario would test nothing."""
    for name, scenario in SCENARIOS.items():
        for at, wanted in scenario.checks.items():
            assert at % scenario.traffic.evaluation == 0, (name, at)
            tests = [alert_test(document, spec, scenario.traffic, at) for spec in SLOS]
            for spec, test in zip(SLOS, tests, strict=True):
                firing = {alert["exp_labels"]["severity"] for alert in test["exp_alerts"]}
                assert firing & set(scenario.scope) == wanted, (name, spec.name, at)
    for pair in BURN_RATE_ALERTS:
        for case in ("above", "below", "long-below", "short-below", "spike"):
            assert f"{pair.severity}-{pair.long_window}-{pair.short_window}-{case}" in SCENARIOS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_promtool_test_rules(name, promtool: Promtool, document, rules_path, tmp_path):
    scenario = SCENARIOS[name]
    traffic = scenario.traffic
    (tmp_path / RULES).write_text(rules_path.read_text())
    test: dict[str, Any] = {
        "interval": f"{traffic.step}m",
        "input_series": [series for spec in SLOS for series in input_series(spec, traffic)],
        "alert_rule_test": [
            alert_test(document, spec, traffic, at) for at in sorted(scenario.checks) for spec in SLOS
        ],
    }
    if scenario.exprs:
        test["promql_expr_test"] = scenario.exprs
    tests_file = write_yaml(
        tmp_path / "test.yml",
        {"rule_files": [RULES], "evaluation_interval": f"{traffic.evaluation}m", "tests": [test]},
    )
    result = promtool("test", "rules", tests_file)  # rule_files are relative to the test file
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
