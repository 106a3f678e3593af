"""The SLO rules as generated: promtool checks them, and `promtool test rules` runs every alert through
traffic built from the specs (just above and just below each burn-rate pair, the short window holding
back and resetting, a 30-day run at half the budget) and checks the recorded values.

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
from observability.slo_rules import rules_file
from observability.slos import (
    ALERT_WINDOWS,
    BURN_RATE_ALERTS,
    SLOS,
    AvailabilitySLO,
    BurnRateAlert,
    LatencySLO,
    SLOSpec,
)
from tests.rules.conftest import Promtool, write_yaml

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
    return rules_file(SLOS, runbook_base_url=BASE_URL)


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory, document) -> Path:
    return write_yaml(tmp_path_factory.mktemp("slo") / RULES, document)


def alerts(document) -> list[dict[str, Any]]:
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


# --- the file and its contract ------------------------------------------------------------------------


def test_promtool_checks_the_generated_rules(promtool: Promtool, rules_path):
    result = promtool("check", "rules", rules_path)
    records = len(ALERT_WINDOWS) + 1 + 6  # SLI windows, the period, objective/budget/period/burn rates
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(SLOS) * (records + len(BURN_RATE_ALERTS))} rules found" in result.stdout


def test_one_group_per_slo_recordings_before_alerts(document):
    assert [group["name"] for group in document["groups"]] == [f"slo-{spec.name}" for spec in SLOS]
    for spec, group in zip(SLOS, document["groups"], strict=True):
        records = [rule["record"] for rule in group["rules"] if "record" in rule]
        assert records == [
            *(c.sli_error_ratio(window) for window in ALERT_WINDOWS),
            c.sli_error_ratio("30d"),
            c.OBJECTIVE_RATIO,
            c.ERROR_BUDGET_RATIO,
            c.TIME_PERIOD_DAYS,
            c.CURRENT_BURN_RATE,
            c.PERIOD_BURN_RATE,
            c.PERIOD_ERROR_BUDGET_REMAINING,
        ]
        alerting = len(BURN_RATE_ALERTS)  # one alerting rule per burn-rate window pair, last
        assert all(
            rule["labels"] == {"slo": spec.name, "service": spec.service}
            for rule in group["rules"][:-alerting]
        )
        assert [rule.get("alert") for rule in group["rules"][-alerting:]] == [
            c.slo_alert_name(spec.name)
        ] * alerting


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
    this = '{slo="orders-api-availability"}'
    pages = {
        rule["labels"][c.LONG_WINDOW_LABEL]: rule["expr"]
        for rule in alerts(document)
        if rule["labels"]["slo"] == "orders-api-availability" and rule["labels"]["severity"] == "page"
    }
    assert pages == {
        "1h": (
            f"slo:sli_error:ratio_rate1h{this} > (14.4 * 0.001)"
            f" and slo:sli_error:ratio_rate5m{this} > (14.4 * 0.001)"
        ),
        "6h": (
            f"slo:sli_error:ratio_rate6h{this} > (6 * 0.001)"
            f" and slo:sli_error:ratio_rate30m{this} > (6 * 0.001)"
        ),
    }


def test_alert_labels_and_annotations(document):
    for spec in SLOS:
        rules = [rule for rule in alerts(document) if rule["labels"]["slo"] == spec.name]
        assert [rule["labels"] for rule in rules] == [
            {"severity": pair.severity, "slo": spec.name, "service": spec.service, **pair_labels(pair)}
            for pair in BURN_RATE_ALERTS
        ]
        for rule in rules:
            name = rule["alert"]
            assert "for" not in rule  # the short window is the wait; see observability/slo_rules.py
            assert list(rule["annotations"]) == [c.SUMMARY, c.DESCRIPTION, c.RUNBOOK_URL]
            assert rule["annotations"][c.RUNBOOK_URL] == f"{BASE_URL}/{name}.md"
            assert VALUE in rule["annotations"][c.DESCRIPTION]
            assert f"{spec.objective * 100:g}%" in rule["annotations"][c.DESCRIPTION]


def test_every_slo_alert_has_a_runbook_with_its_queries(document):
    for spec in SLOS:
        runbook = (REPOSITORY / c.runbook_path(c.slo_alert_name(spec.name))).read_text()
        assert runbook.startswith(f"# {c.slo_alert_name(spec.name)}\n")
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Remedies"):
            assert section in runbook
        # The SLI exactly as recorded: a rule change without a runbook change fails here.
        assert f"```promql\n{spec.error_ratio('5m')}\n```" in runbook
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
    """Samples every `step` minutes, rules evaluated every `evaluation` minutes (5m samples keep the 5m
    ratio: promtool 2.42's ranges include both ends; sparse evaluations keep multi-day runs fast)."""

    segments: Sequence[Segment]
    step: int = 5
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
        """The 30-day ratio as recorded: the mean of the 5m ratios the evaluations saw."""
        seen = [self.ratio(spec, t, 5) for t in range(self.evaluation, at + 1, self.evaluation)]
        ratios = [r for r in seen if r is not None]
        return sum(ratios) / len(ratios)


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
    service = {**CONTEXT, **spec.selector, "method": "GET", "route": "/orders"}
    targets = [
        ({**service, "pod": "pod-a"}, [(t // 2, b) for t, b in counts]),
        ({**service, "pod": "pod-b"}, [(t // 2, 0) for t, _ in counts]),
    ]
    for label in spec.selector:
        decoy = {**service, label: f"{spec.selector[label]}-other", "pod": "decoy"}
        targets.append((decoy, [(t // 2, t // 2) for t, _ in counts]))
    series = []
    for target, steps in targets:
        good, bad = [t - b for t, b in steps], [b for _, b in steps]
        if isinstance(spec, AvailabilitySLO):
            # A tenth of the good requests are 4xx: the client's fault, not the service's.
            series.append((f"{spec.metric}{labels(**target, status='200')}", [g - g // 10 for g in good]))
            series.append((f"{spec.metric}{labels(**target, status='404')}", [g // 10 for g in good]))
            if any(bad):  # a client creates the 5xx series on its first 5xx
                series.append((f"{spec.metric}{labels(**target, status='503')}", bad))
        elif isinstance(spec, LatencySLO):
            total = [g + b for g, b in zip(good, bad, strict=True)]
            series.append((f"{spec.metric}_bucket{labels(**target, le=spec.le)}", good))
            series.append((f"{spec.metric}_bucket{labels(**target, le='+Inf')}", total))
            series.append((f"{spec.metric}_count{labels(**target)}", total))
    return [{"series": name, "values": counter(values)} for name, values in series]


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"  # Prometheus' humanizePercentage: Sprintf("%.4g%%", v*100)


def alert_test(document, spec: SLOSpec, traffic: Traffic, at: int) -> dict[str, Any]:
    """What promtool must see at minute `at`: the page and the ticket exactly when one of their pairs
    fires, with the alert's value in the description."""
    expected = []
    for rule in alerts(document):
        if rule["labels"]["slo"] != spec.name:
            continue
        pairs = [pair for pair in BURN_RATE_ALERTS if pair_labels(pair).items() <= rule["labels"].items()]
        value = traffic.firing(spec, at, pairs)
        if value is not None:
            annotations = dict(rule["annotations"])
            annotations[c.DESCRIPTION] = annotations[c.DESCRIPTION].replace(VALUE, humanize_percentage(value))
            expected.append({"exp_labels": {**rule["labels"], **CONTEXT}, "exp_annotations": annotations})
    return {"eval_time": f"{at}m", "alertname": c.slo_alert_name(spec.name), "exp_alerts": expected}


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
        traffic = Traffic([*before, Segment(long, pair.factor * 1.9), clean(pair.long_window)], 5, evaluation)
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


def expect(expr: str, at: int, value: float | None, spec: SLOSpec, *, context: bool = True) -> dict[str, Any]:
    """A promql_expr_test of `expr` rounded to 1e-9 (PromQL's float noise), or of its absence."""
    got = {"slo": spec.name, "service": spec.service, **(CONTEXT if context else {})}
    samples = [] if value is None else [{"labels": labels(**got), "value": rounded(value)}]
    return {"expr": f"round({expr}, 1e-9)", "eval_time": f"{at}m", "exp_samples": samples}


def steady_month() -> Scenario:
    """30 days at half the budget, alternating 0.2x and 0.8x by the hour; checked every 6 hours, and
    the period's ratio at the end (evaluated hourly: the hour's last 5 minutes)."""
    traffic = Traffic([burn("1h", 0.2), burn("1h", 0.8)] * (30 * 12), evaluation=60)
    month = minutes("30d")
    exprs = []
    for spec in SLOS:
        this = f'{{slo="{spec.name}"}}'
        assert math.isclose(traffic.period_ratio(spec, month), 0.5 * spec.error_budget)
        exprs += [
            expect(f"{c.sli_error_ratio('30d')}{this}", month, traffic.period_ratio(spec, month), spec),
            expect(f"{c.PERIOD_BURN_RATE}{this}", month, 0.5, spec),
            expect(f"{c.PERIOD_ERROR_BUDGET_REMAINING}{this}", month, 0.5, spec),
        ]
    return Scenario(traffic, {at: set() for at in range(360, month + 1, 360)}, exprs=exprs)


def recorded_values() -> Scenario:
    """Every recorded series at a steady 2.5x burn, after 2h: every window sees the same ratio."""
    rate, at = 2.5, 120
    exprs = []
    for spec in SLOS:
        this = f'{{slo="{spec.name}"}}'
        ratio = rate * spec.error_budget
        exprs += [expect(f"{c.sli_error_ratio(w)}{this}", at, ratio, spec) for w in (*ALERT_WINDOWS, "30d")]
        exprs += [
            expect(f"{c.OBJECTIVE_RATIO}{this}", at, spec.objective, spec, context=False),
            expect(f"{c.ERROR_BUDGET_RATIO}{this}", at, spec.error_budget, spec, context=False),
            expect(f"{c.TIME_PERIOD_DAYS}{this}", at, spec.days, spec, context=False),
            expect(f"{c.CURRENT_BURN_RATE}{this}", at, rate, spec),
            expect(f"{c.PERIOD_BURN_RATE}{this}", at, rate, spec),
            expect(f"{c.PERIOD_ERROR_BUDGET_REMAINING}{this}", at, 1 - rate, spec),
        ]
    # 2.5x over the 2 hours there are: above 1x over "3d" and 6h, below every other pair.
    return Scenario(Traffic([burn("2h", rate)]), {at: {c.TICKET}}, exprs=exprs)


def no_bad_requests() -> Scenario:
    """Without a single 5xx (no 5xx series at all) the ratio is 0, not absent."""
    exprs = []
    for spec in SLOS:
        this = f'{{slo="{spec.name}"}}'
        exprs += [
            expect(f"{c.sli_error_ratio('5m')}{this}", 120, 0, spec),
            expect(f"{c.sli_error_ratio('30d')}{this}", 120, 0, spec),
            expect(f"{c.PERIOD_ERROR_BUDGET_REMAINING}{this}", 120, 1, spec),
        ]
    return Scenario(Traffic([clean("2h")]), {120: set()}, exprs=exprs)


def quiet_hours() -> Scenario:
    """An hour without requests leaves no ratio (not NaN), so the period's ratio stays the mean over the
    times with traffic."""
    traffic = Traffic([clean("1h"), burn("1h", 1.5), clean("1h", volume=0)])
    exprs = []
    for spec in SLOS:
        this = f'{{slo="{spec.name}"}}'
        exprs += [
            expect(f"{c.sli_error_ratio('5m')}{this}", 180, None, spec),
            expect(f"{c.sli_error_ratio('30d')}{this}", 180, traffic.period_ratio(spec, 180), spec),
        ]
        assert math.isclose(traffic.period_ratio(spec, 180), 1.5 * spec.error_budget / 2)
    return Scenario(traffic, {180: set()}, exprs=exprs)


SCENARIOS = {
    **pair_scenarios(),
    "steady-30-days-at-half-the-budget": steady_month(),
    "recorded-values": recorded_values(),
    "no-bad-requests": no_bad_requests(),
    "quiet-hours": quiet_hours(),
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
