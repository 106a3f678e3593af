"""The service level objectives, as typed specs: what an SLI counts, the objective and the period.

An SLO spec says which requests are bad (its SLI, read from the metrics the web app exposes, see
webapp/orders_api/slo_contract.py) and which series belong to the service (`selector`, target labels the
agent adds). `slo_rules` turns specs into recording rules and burn-rate alerts; dashboards read the
recorded series. A bad spec raises `SLOSpecError`, one line per broken rule naming the field:
`slos[<name>].<field>: must ... (got ...)`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar

from k8s import names
from observability import jobs
from observability.conventions import EXTERNAL_LABELS, PAGE, TICKET
from webapp.orders_api import slo_contract as contract


class SLOSpecError(ValueError):
    """One or more SLO specs break a rule; each line of the message names the SLO and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class BurnRateAlert:
    """Alert when the error ratio exceeds `factor` x the error budget over both windows (the long one
    says enough budget burned, the short one that it is still burning)."""

    severity: str
    long_window: str
    short_window: str
    factor: float


# SLO period -> days. The burn-rate factors below are for a 30-day budget, so 30d is the one period.
WINDOW_DAYS: Mapping[str, int] = {"30d": 30}
WINDOWS = tuple(WINDOW_DAYS)
# The SRE Workbook's multi-window, multi-burn-rate alerts (chapter 5, table 5-8) with sloth's extra ticket
# pair: each pair fires once it has burned 2 % (1h), 5 % (6h) or 10 % (1d, 3d) of a 30-day budget.
BURN_RATE_ALERTS = (
    BurnRateAlert(PAGE, "1h", "5m", 14.4),
    BurnRateAlert(PAGE, "6h", "30m", 6),
    BurnRateAlert(TICKET, "1d", "2h", 3),
    BurnRateAlert(TICKET, "3d", "6h", 1),
)
# Every window an alert reads, shortest first: the SLI is recorded over each (and over the period).
ALERT_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

# Metrics an SLI may read: counters with a `status` label, and histograms with their bucket boundaries.
STATUS_COUNTERS = (contract.HTTP_REQUESTS_TOTAL,)
HISTOGRAM_BUCKETS: Mapping[str, tuple[float, ...]] = {
    contract.HTTP_REQUEST_DURATION_SECONDS: contract.REQUEST_DURATION_BUCKETS,
    contract.DB_QUERY_DURATION_SECONDS: contract.DB_QUERY_DURATION_BUCKETS,
}
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # a label value that also spells an alert name
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class SLOSpec(ABC):
    """Common to every SLO. `selector` (label -> value) picks the service's series; its SLI sums over
    every matching pod."""

    kind: ClassVar[str]
    name: str
    service: str
    objective: float
    selector: Mapping[str, str]
    window: str = "30d"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise SLOSpecError([f"slos[{self.name}].{problem}" for problem in problems])

    def problems(self) -> list[str]:
        problems = []
        if not _NAME.match(self.name):
            problems.append(f"name: must be lower-case words joined by '-' (got {self.name!r})")
        if not _NAME.match(self.service):
            problems.append(f"service: must be lower-case words joined by '-' (got {self.service!r})")
        objective = self.objective
        if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 1:
            problems.append(f"objective: must be strictly between 0 and 1 (got {objective!r})")
        if self.window not in WINDOWS:
            problems.append(f"window: must be one of {list(WINDOWS)} (got {self.window!r})")
        if not self.selector or not all(_LABEL_NAME.match(label) for label in self.selector):
            problems.append(f"selector: must match at least one label by name (got {dict(self.selector)!r})")
        return problems

    @property
    def days(self) -> int:
        return WINDOW_DAYS[self.window]

    @property
    def error_budget(self) -> float:
        """1 - objective in decimal, without float noise (0.001, not 0.0010000000000000009)."""
        return float(1 - Decimal(repr(self.objective)))

    @property
    @abstractmethod
    def good_events(self) -> str:
        """What a good event is, in words, for alert texts."""

    @abstractmethod
    def error_ratio(self, window: str) -> str:
        """PromQL: the share of bad events over `window`, per cluster; absent without traffic (0/0 would
        be NaN and poison every average taken over it)."""

    def _rate(self, metric: str, window: str, *matchers: str) -> str:
        """The service's events per second over `window`, summed over its pods. The external labels
        stay: a workspace holding several clusters never mixes them (where absent, nothing changes)."""
        selector = ", ".join([*(f'{k}="{v}"' for k, v in sorted(self.selector.items())), *matchers])
        return f"sum by ({', '.join(EXTERNAL_LABELS)}) (rate({metric}{{{selector}}}[{window}]))"


@dataclass(frozen=True, kw_only=True)
class AvailabilitySLO(SLOSpec):
    """Good: requests answered without a 5xx status."""

    kind: ClassVar[str] = "availability"
    metric: str = contract.HTTP_REQUESTS_TOTAL

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.metric not in STATUS_COUNTERS:
            problems.append(
                f"metric: must be a counter with a status label the web app exposes, one of "
                f"{list(STATUS_COUNTERS)} (got {self.metric!r})"
            )
        return problems

    @property
    def good_events(self) -> str:
        return "requests answered without a 5xx status"

    def error_ratio(self, window: str) -> str:
        total = self._rate(self.metric, window)
        errors = self._rate(self.metric, window, 'status=~"5.."')
        # Without a single 5xx the error series does not exist: count zero errors, not none.
        return f"({errors} or {total} * 0) / ({total} > 0)"


@dataclass(frozen=True, kw_only=True)
class LatencySLO(SLOSpec):
    """Good: requests answered within `threshold_seconds`, a bucket boundary of the histogram `metric`."""

    kind: ClassVar[str] = "latency"
    threshold_seconds: float
    metric: str = contract.HTTP_REQUEST_DURATION_SECONDS

    def problems(self) -> list[str]:
        problems = super().problems()
        buckets = HISTOGRAM_BUCKETS.get(self.metric)
        if buckets is None:
            problems.append(
                f"metric: must be a histogram the web app exposes, one of {list(HISTOGRAM_BUCKETS)} "
                f"(got {self.metric!r})"
            )
        elif self.threshold_seconds not in buckets:
            problems.append(
                f"threshold_seconds: must be a bucket boundary of {self.metric}, one of {list(buckets)} "
                f"(got {self.threshold_seconds!r})"
            )
        return problems

    @property
    def le(self) -> str:
        """The bucket's `le` label as Python's client renders it (repr of the float: 0.3, 1.0)."""
        return repr(float(self.threshold_seconds))

    @property
    def good_events(self) -> str:
        return f"requests answered within {self.threshold_seconds:g} s"

    def error_ratio(self, window: str) -> str:
        total = self._rate(f"{self.metric}_count", window)
        fast = self._rate(f"{self.metric}_bucket", window, f'le="{self.le}"')
        return f"({total} - {fast}) / ({total} > 0)"


def checked(specs: Iterable[SLOSpec]) -> tuple[SLOSpec, ...]:
    """The specs, once each name is known to be unique (names key the recorded series and alerts)."""
    specs = tuple(specs)
    names_ = [spec.name for spec in specs]
    duplicates = sorted({name for name in names_ if names_.count(name) > 1})
    if duplicates:
        raise SLOSpecError(
            [f"slos[{name}].name: must be unique (got it more than once)" for name in duplicates]
        )
    return specs


# The web app's series: the agent's `pods` job, its namespace and its container (one service).
WEBAPP_SELECTOR: Mapping[str, str] = MappingProxyType(
    {"job": jobs.PODS, "namespace": names.APP_NAMESPACE, "container": names.WEBAPP}
)

SLOS: tuple[SLOSpec, ...] = checked(
    (
        AvailabilitySLO(
            name=f"{names.WEBAPP}-availability",
            service=names.WEBAPP,
            objective=0.999,
            selector=WEBAPP_SELECTOR,
        ),
        LatencySLO(
            name=f"{names.WEBAPP}-latency",
            service=names.WEBAPP,
            objective=0.99,
            threshold_seconds=contract.LATENCY_SLO_THRESHOLD_SECONDS,
            selector=WEBAPP_SELECTOR,
        ),
    )
)
