"""Synthetic input series for an SLO spec in sloth's format, for promtool unit tests of SLO rules.

The SLI queries are read with a real PromQL parser (promql-parser): every vector selector, its matchers,
whether it is read as a counter (inside `rate`, `irate`, `increase`) or as a gauge, the thresholds gauges are
compared with (`x < 0.75`), and the labels queries group or match on. Series are generated to satisfy them:

- Label values: each equality matcher's value, a few values that match each regex (from a small candidate
  list, checked with Python's `re.fullmatch`, as Prometheus anchors its regexes), and for every matcher one
  value it rejects, so that a query's filter decides what it reads. Labels the queries group or match on get
  one value; every series gets two `instance`s.
- Counters carry the traffic. A selector of the error query that narrows its metric (its matchers are not
  those of any total query selector of that metric: `code=~"5.."`) makes the series it matches bad events;
  a metric whose series are split so gets the error ratio of the scenario on its bad series and the rest on
  the others; a metric the error query reads whole (`errors_total`) is all bad; any other carries all traffic.
- Histograms: a `*_bucket` series with an `le` label grows with the family's `_count` (same labels): the
  finite buckets by the good share, `+Inf` by all of it.
- Gauges compared with thresholds are on the good side of every threshold, and on the bad side of every
  threshold while the error ratio is above a level (one level per instance, so the bad share steps up);
  gauges without a threshold are read as good ratios (`1 - error ratio`).

The scenario: steady traffic, an error ratio that grows geometrically (7 % a minute) from a low baseline to a
peak and falls back at once, and a quiet spell (a tenth of the traffic) later. A geometric ramp crosses each
burn-rate threshold at a different minute, so a threshold changed by a fifth moves an alert by minutes, not
seconds; the scenario is long enough for the 6h windows to fill and for every alert to resolve.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from observability.model.promql import CHILDREN  # node type -> child attributes, one table

WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase"})
COMPARISONS = frozenset({"<", "<=", ">", ">="})
# Values tried for regex and inequality matchers, and as the value a matcher rejects.
CANDIDATE_VALUES = (
    "200",
    "201",
    "404",
    "429",
    "500",
    "503",
    "2xx",
    "5xx",
    "GET",
    "POST",
    "LIST",
    "WATCH",
    "success",
    "error",
    "true",
    "false",
    "a",
    "b",
)
NEUTRAL = "other"
INSTANCES = ("i1", "i2")
GROUP_VALUE = "g1"
# Per instance: the error ratio above which its gauges are on the bad side of their thresholds.
GAUGE_LEVELS = (0.02, 0.2)


class SpecError(ValueError):
    """The spec cannot be turned into series: the message names the file, the SLO and the reason."""


@dataclass(frozen=True)
class Scenario:
    """Traffic and errors per minute. Defaults: 11 hours of 1-minute samples (promtool evaluates them in
    seconds); the ramp starts at 0:30, peaks (90 % errors) at about 3:20, the errors stop at about 3:50, the
    6h windows are clean again by about 9:50; a tenth of the traffic from 7:00 to 9:00."""

    minutes: int = 660
    requests_per_second: float = 20.0
    quiet_share: float = 0.1
    quiet: tuple[int, int] = (420, 540)
    baseline_error_ratio: float = 1e-5
    ramp_start: int = 30
    growth_per_minute: float = 1.07
    peak_error_ratio: float = 0.9
    peak_minutes: int = 60

    @property
    def peak_start(self) -> int:
        steps = math.log(self.peak_error_ratio / self.baseline_error_ratio) / math.log(self.growth_per_minute)
        return self.ramp_start + math.ceil(steps)

    @property
    def outage_end(self) -> int:
        return self.peak_start + self.peak_minutes

    def error_ratio(self, minute: int) -> float:
        if minute < self.ramp_start or minute >= self.outage_end:
            return self.baseline_error_ratio
        grown = self.baseline_error_ratio * self.growth_per_minute ** (minute - self.ramp_start)
        return min(grown, self.peak_error_ratio)

    def requests_per_minute(self, minute: int) -> float:
        share = self.quiet_share if self.quiet[0] <= minute < self.quiet[1] else 1.0
        return self.requests_per_second * 60 * share


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # "=", "!=", "=~", "!~"
    value: str

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = re.fullmatch(self.value, value) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...]
    counter: bool
    # (operator, threshold) as `selector OP threshold`.
    thresholds: tuple[tuple[str, float], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels.get(m.label, "")) for m in self.matchers)


@dataclass
class Query:
    selectors: list[Selector] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def parse_query(expr: str) -> Query:
    """The selectors of an SLI query (`{{.window}}` read as 5m) and the labels it groups or matches on."""
    query = Query()
    _walk(promql_parser.parse(WINDOW.sub("5m", expr)), query, counter=False, thresholds=())
    return query


def _walk(node: Any, query: Query, *, counter: bool, thresholds: tuple[tuple[str, float], ...]) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        matchers = [Matcher(m.name, _OPS[str(m.op).split(".")[-1]], m.value) for m in node.matchers.matchers]
        name = node.name or next((m.value for m in matchers if m.label == "__name__" and m.op == "="), None)
        if not name:
            raise SpecError(f"selector without an exact metric name: {node.prettify()}")
        own = tuple(m for m in matchers if m.label != "__name__")
        query.selectors.append(Selector(name, own, counter, thresholds))
        return
    if kind == "Call":
        inner = node.func.name in COUNTER_FUNCTIONS
        for argument in node.args:
            _walk(argument, query, counter=counter or inner, thresholds=thresholds)
        return
    if kind == "AggregateExpr" and node.modifier is not None and str(node.modifier.type).endswith("By"):
        query.grouping.update(node.modifier.labels)
    if kind == "BinaryExpr":
        matching = node.modifier.matching if node.modifier is not None else None
        if matching is not None and str(matching.type).endswith("Include"):
            query.grouping.update(matching.labels)
        op = str(node.op)
        if op in COMPARISONS:
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
            if type(node.rhs).__name__ == "NumberLiteral":
                _walk(node.lhs, query, counter=counter, thresholds=(*thresholds, (op, node.rhs.val)))
                _walk(node.rhs, query, counter=counter, thresholds=thresholds)
                return
            if type(node.lhs).__name__ == "NumberLiteral":
                _walk(node.rhs, query, counter=counter, thresholds=(*thresholds, (flipped[op], node.lhs.val)))
                return
    for attribute in CHILDREN.get(kind, ()):
        child = getattr(node, attribute)
        if child is not None:
            _walk(child, query, counter=counter, thresholds=thresholds)


@dataclass(frozen=True)
class SLI:
    """One SLO's SLI: `error` and `total` queries (events), or only `error` (raw error ratio)."""

    slo: str
    error: Query
    total: Query | None


def read_slis(spec_path: Path) -> list[SLI]:
    """The SLIs of a sloth spec: `prometheus/v1` or the Kubernetes `PrometheusServiceLevel` form, one or
    more YAML documents."""
    slis: list[SLI] = []
    for index, document in enumerate(d for d in yaml.safe_load_all(spec_path.read_text()) if d):
        kubernetes = document.get("kind") == "PrometheusServiceLevel"
        slos = (document.get("spec") or {}).get("slos") if kubernetes else document.get("slos")
        if document.get("version") != "prometheus/v1" and not kubernetes:
            raise SpecError(
                f"{spec_path}: document {index}: not a sloth prometheus/v1 or PrometheusServiceLevel"
            )
        for slo in slos or []:
            where = f"{spec_path}: slo {slo.get('name')!r}"
            sli = slo.get("sli") or {}
            keys = (
                ("errorQuery", "totalQuery", "errorRatioQuery")
                if kubernetes
                else (
                    "error_query",
                    "total_query",
                    "error_ratio_query",
                )
            )
            try:
                if "events" in sli:
                    events = sli["events"]
                    slis.append(SLI(where, parse_query(events[keys[0]]), parse_query(events[keys[1]])))
                elif "raw" in sli:
                    slis.append(SLI(where, parse_query(sli["raw"][keys[2]]), None))
                else:
                    raise SpecError(f"{where}: only sli.events and sli.raw are supported (not SLI plugins)")
            except ValueError as error:
                raise SpecError(f"{where}: {error}") from error
    if not slis:
        raise SpecError(f"{spec_path}: no SLO")
    return slis


def _values_for(label: str, matchers: Iterable[Matcher], where: str) -> list[str]:
    """The values a label takes: each matcher satisfied (regexes: up to two candidates) and rejected once."""
    matchers = list(matchers)
    literals = [m.value for m in matchers if m.op in ("=", "!=")]
    candidates = list(dict.fromkeys([*literals, *CANDIDATE_VALUES]))
    chosen: list[str] = []
    for matcher in matchers:
        # A neutral value first where any value will do.
        positive = matcher.op in ("=", "=~")
        accepted = [c for c in (candidates if positive else [NEUTRAL, *candidates]) if matcher.matches(c)]
        rejected = [c for c in ([NEUTRAL, *candidates] if positive else candidates) if not matcher.matches(c)]
        if not accepted:
            raise SpecError(
                f"{where}: no candidate value of label {label!r} satisfies"
                f" {label}{matcher.op}{matcher.value!r}"
            )
        take = 2 if matcher.op == "=~" else 1
        chosen += accepted[:take]
        chosen += rejected[:1]
    return list(dict.fromkeys(chosen))


def _histogram_family(metric: str) -> str | None:
    return metric[: -len("_bucket")] if metric.endswith("_bucket") else None


def input_series(spec_path: Path, scenario: Scenario | None = None) -> list[dict[str, str]]:
    """promtool `input_series` (1-minute samples) for every metric the spec's SLI queries read."""
    scenario = scenario or Scenario()
    slis = read_slis(spec_path)
    selectors = [s for sli in slis for q in (sli.error, sli.total) if q for s in q.selectors]
    grouping = sorted({label for sli in slis for q in (sli.error, sli.total) if q for label in q.grouping})
    # Histogram buckets share their family's labels (with `_count`), plus `le`.
    family_of: dict[str, str] = {}
    for selector in selectors:
        family = _histogram_family(selector.metric)
        if family and any(m.label == "le" for m in selector.matchers):
            family_of[selector.metric] = family
            family_of[f"{family}_count"] = family
    by_family: dict[str, list[Selector]] = {}
    for selector in selectors:
        by_family.setdefault(family_of.get(selector.metric, selector.metric), []).append(selector)

    narrowing = _narrowing_selectors(slis)
    series: list[dict[str, str]] = []
    for family, members in by_family.items():
        where = f"{spec_path}: metric {family}"
        matchers: dict[str, list[Matcher]] = {}
        for selector in members:
            for matcher in selector.matchers:
                if matcher.label != "le" or family not in family_of.values():
                    matchers.setdefault(matcher.label, []).append(matcher)
        labels: dict[str, list[str]] = {
            name: _values_for(name, ms, where) for name, ms in sorted(matchers.items())
        }
        for name in grouping:
            labels.setdefault(name, [GROUP_VALUE])
        labels["instance"] = list(INSTANCES)
        combos = [dict(zip(labels, values, strict=True)) for values in itertools.product(*labels.values())]
        if family in family_of.values():
            series += _histogram(family, members, combos, narrowing, scenario)
        elif all(s.counter for s in members):
            series += _counter(family, combos, members, narrowing, scenario)
        else:
            series += _gauge(family, members, combos, scenario)
    return series


def _narrowing_selectors(slis: list[SLI]) -> list[Selector]:
    """Error-query selectors whose matchers are not those of a total-query selector of the same metric."""
    found: list[Selector] = []
    for sli in slis:
        if sli.total is None:
            continue
        total = {(s.metric, frozenset(s.matchers)) for s in sli.total.selectors}
        found += [s for s in sli.error.selectors if (s.metric, frozenset(s.matchers)) not in total]
    return found


def _rates(
    metric: str,
    combos: list[dict[str, str]],
    readers: list[Selector],
    narrowing: list[Selector],
    scenario: Scenario,
) -> list[list[float]]:
    """Per combination: requests per minute at each minute. Series no query reads carry steady traffic of
    their own; the series the queries read share the scenario's traffic and errors."""
    read = [any(s.matches(c) for s in readers) for c in combos]
    bad = [
        r and any(s.metric == metric and s.matches(c) for s in narrowing)
        for r, c in zip(read, combos, strict=True)
    ]
    n_bad = sum(bad)
    n_good = sum(read) - n_bad
    n_unread = len(combos) - sum(read)
    rates: list[list[float]] = []
    for is_read, is_bad in zip(read, bad, strict=True):
        per_minute: list[float] = []
        for minute in range(scenario.minutes + 1):
            traffic = scenario.requests_per_minute(minute)
            errors = scenario.error_ratio(minute)
            if not is_read:
                per_minute.append(scenario.requests_per_second * 60 / n_unread)
            elif n_bad == 0:
                per_minute.append(traffic / n_good)
            elif is_bad:
                per_minute.append(traffic * errors / n_bad)
            else:
                per_minute.append(traffic * (1 - errors) / n_good if n_good else 0.0)
        rates.append(per_minute)
    return rates


def _cumulative(increments: list[float]) -> str:
    total = 0.0
    values: list[str] = []
    for index, increment in enumerate(increments):
        if index:
            total += increment
        values.append(f"{total:.6g}" if total < 1e6 else f"{total:.10g}")
    return " ".join(values)


def _series_name(metric: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}}}"


def _counter(
    metric: str,
    combos: list[dict[str, str]],
    readers: list[Selector],
    narrowing: list[Selector],
    scenario: Scenario,
) -> list[dict[str, str]]:
    rates = _rates(metric, combos, [s for s in readers if s.metric == metric], narrowing, scenario)
    return [
        {"series": _series_name(metric, c), "values": _cumulative(r)}
        for c, r in zip(combos, rates, strict=True)
    ]


def _histogram(
    family: str,
    members: list[Selector],
    combos: list[dict[str, str]],
    narrowing: list[Selector],
    scenario: Scenario,
) -> list[dict[str, str]]:
    # The family's series are read by any of its selectors, whatever their `le`.
    readers = [
        Selector(s.metric, tuple(m for m in s.matchers if m.label != "le"), s.counter) for s in members
    ]
    count_rates = _rates(f"{family}_count", combos, readers, narrowing, scenario)
    les = sorted({m.value for s in members for m in s.matchers if m.label == "le"} | {"+Inf"}, key=float)
    series = [
        {"series": _series_name(f"{family}_count", c), "values": _cumulative(r)}
        for c, r in zip(combos, count_rates, strict=True)
    ]
    for combo, rates in zip(combos, count_rates, strict=True):
        for le in les:
            good = [
                rate * (1.0 if le == "+Inf" else 1 - scenario.error_ratio(minute))
                for minute, rate in enumerate(rates)
            ]
            series.append(
                {"series": _series_name(f"{family}_bucket", {**combo, "le": le}), "values": _cumulative(good)}
            )
    return series


def _gauge(
    metric: str, members: list[Selector], combos: list[dict[str, str]], scenario: Scenario
) -> list[dict[str, str]]:
    thresholds = [t for s in members for t in s.thresholds]
    below = [value for op, value in thresholds if op in ("<", "<=")]
    above = [value for op, value in thresholds if op in (">", ">=")]
    if below and above:
        raise SpecError(f"metric {metric}: compared both ways (< and >); cannot place a bad side")
    series: list[dict[str, str]] = []
    for combo in combos:
        level = GAUGE_LEVELS[INSTANCES.index(combo["instance"]) % len(GAUGE_LEVELS)]
        values: list[float] = []
        for minute in range(scenario.minutes + 1):
            errors = scenario.error_ratio(minute)
            if not thresholds:
                values.append(1 - errors)
                continue
            bad = errors >= level
            if below:
                good_value = (max(below) + 1) / 2 if max(below) < 1 else max(below) * 2 + 1
                bad_value = min(below) / 2 if min(below) > 0 else min(below) * 2 - 1
            else:
                good_value = min(above) / 2 if min(above) > 0 else min(above) * 2 - 1
                bad_value = max(above) * 2 + 1
            values.append(bad_value if bad else good_value)
        series.append({"series": _series_name(metric, combo), "values": " ".join(f"{v:.6g}" for v in values)})
    return series
