"""Burn-rate alert windows per SLO period (spec: observability/spec/windows/<period>.yaml, sloth's
`AlertWindows` format).

Each severity has a quick and a slow pair of windows. A pair fires when the error ratio over both its
windows exceeds `factor` x the error budget, where factor = errorBudgetPercent / 100 x period / long
window: the long window says that share of the period's budget is gone, the short one that it is still
going. For 30 days: 14.4 (1h/5m), 6 (6h/30m), 3 (1d/2h), 1 (3d/6h).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from observability import spec
from observability.spec.problems import Collector, Problem, SpecError

PAGE = "page"
TICKET = "ticket"
SPEEDS = ("quick", "slow")
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(duration: str) -> int:
    """A one-unit Prometheus duration (`5m`, `6h`, `30d`) in seconds; ValueError otherwise."""
    match = _DURATION.match(duration)
    if match is None or int(match[1]) == 0:
        raise ValueError(f"not a duration like 5m, 6h or 30d: {duration!r}")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def prometheus_duration(duration: str) -> str:
    """`duration` as Prometheus prints it (prometheus/common model.Duration.String): the largest units
    first, years and weeks only when exact, so 7d is `1w`, 28d `4w` and 30d `30d` (sloth names its period
    series so: slo:sli_error:ratio_rate4w)."""
    left, parts = seconds(duration), []
    units = (("y", 365 * 86400, True), ("w", 604800, True), ("d", 86400, False), ("h", 3600, False))
    for unit, size, exact in (*units, ("m", 60, False), ("s", 1, False)):
        if exact and left % size:
            continue
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts)


@dataclass(frozen=True)
class WindowPair:
    severity: str  # page | ticket
    speed: str  # quick | slow
    long_window: str
    short_window: str
    budget_percent: Decimal  # share of the period's budget spent over the long window when it fires


@dataclass(frozen=True)
class AlertWindows:
    period: str  # e.g. 30d
    pairs: tuple[WindowPair, ...]  # page quick, page slow, ticket quick, ticket slow

    @property
    def days(self) -> int:
        return seconds(self.period) // 86400

    @property
    def period_window(self) -> str:
        """The period as a window in series names and `sloth_window` (30d, but 4w for 28d)."""
        return prometheus_duration(self.period)

    def factor(self, pair: WindowPair) -> float:
        """How many times the budget rate the pair's long window burned when it fires (14.4 for 1h of 30d)."""
        return float(pair.budget_percent / 100 * seconds(self.period) / seconds(pair.long_window))

    @property
    def windows(self) -> tuple[str, ...]:
        """Every window an alert reads, shortest first: the SLI is recorded over each."""
        used = {w for pair in self.pairs for w in (pair.long_window, pair.short_window)}
        return tuple(sorted(used, key=seconds))


def parse_windows(document: Any, file: str) -> AlertWindows | list[Problem]:
    problems = Collector(file)
    if not isinstance(document, dict) or document.get("kind") != "AlertWindows":
        problems.at("kind", f"must be AlertWindows (got {_kind(document)!r})")
        return problems.problems
    body = document.get("spec") or {}
    period = body.get("sloPeriod")
    if not isinstance(period, str) or not _valid_duration(period) or seconds(period) % 86400:
        problems.at("spec.sloPeriod", f"must be a whole number of days like 30d (got {period!r})")
    pairs = []
    for severity in (PAGE, TICKET):
        for speed in SPEEDS:
            path = f"spec.{severity}.{speed}"
            entry = (body.get(severity) or {}).get(speed)
            if not isinstance(entry, dict):
                problems.at(path, "is missing")
                continue
            long_w, short_w, percent = (
                entry.get("longWindow"),
                entry.get("shortWindow"),
                entry.get("errorBudgetPercent"),
            )
            for name, value in (("longWindow", long_w), ("shortWindow", short_w)):
                if not isinstance(value, str) or not _valid_duration(value):
                    problems.at(f"{path}.{name}", f"must be a duration like 5m or 1h (got {value!r})")
            if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 < percent <= 100:
                problems.at(f"{path}.errorBudgetPercent", f"must be in (0, 100] (got {percent!r})")
            if not problems.problems:
                if seconds(str(short_w)) >= seconds(str(long_w)):
                    problems.at(
                        path, f"shortWindow must be shorter than longWindow (got {short_w}, {long_w})"
                    )
                pairs.append(WindowPair(severity, speed, str(long_w), str(short_w), Decimal(repr(percent))))
    return problems.problems or AlertWindows(period=str(period), pairs=tuple(pairs))


def load_windows() -> dict[str, AlertWindows]:
    """Every period the platform offers (observability/spec/windows), by period."""
    found: dict[str, AlertWindows] = {}
    problems: list[Problem] = []
    for period, path in spec.window_files().items():
        document = spec.read(path)
        parsed = document if isinstance(document, Problem) else parse_windows(document, spec.display(path))
        if isinstance(parsed, AlertWindows):
            if parsed.period != period:
                problems.append(
                    Problem(spec.display(path), "spec.sloPeriod", f"must be {period}, the file's name")
                )
            found[period] = parsed
        else:
            problems += [parsed] if isinstance(parsed, Problem) else parsed
    if problems:
        raise SpecError(problems)
    return found


def _valid_duration(value: str) -> bool:
    try:
        seconds(value)
    except ValueError:
        return False
    return True


def _kind(document: Any) -> Any:
    return document.get("kind") if isinstance(document, dict) else type(document).__name__


def windows_file(period: str) -> Path:
    return spec.window_files()[period]
