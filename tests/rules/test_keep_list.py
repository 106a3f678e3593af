"""The keep-list is closed both ways: every series a rule reads is kept by the job that produces it, and
every kept series is read by a rule or a dashboard, or listed with the reason it is kept, or declared by
a service's file (a team keeps what its service file says, its reason). Series names come
from the rule expressions and the dashboards' panel queries through a real PromQL parser (promql-parser),
never a regex."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from observability import catalog, jobs, platform_alerts
from observability.jobs import JOB_TABLE, all_jobs
from observability.model.load import load_default
from observability.model.promql import selectors, series_names
from observability.render.rules import rule_files
from tests.dashboards.queries import panel_queries

FILES = rule_files(load_default(), runbook_base_url="https://example.invalid/docs/runbooks")
RULES = [rule for document in FILES.values() for group in document["groups"] for rule in group["rules"]]
RECORDED = {rule["record"] for rule in RULES if "record" in rule}
# Series the ruler itself writes: the alert state of every alerting rule.
RULER_SERIES = {"ALERTS", "ALERTS_FOR_STATE"}
JOBS = all_jobs(load_default())  # the platform's, then one per service
KEPT = {series for row in JOBS for series in row.series}
PATTERNS = [re.compile(pattern) for row in JOBS for pattern in row.patterns]
# What the platform's own jobs keep: each needs a reader or a reason (a service's is its file's choice).
KEPT_BY_PLATFORM = {series for row in JOB_TABLE for series in row.series}


def kept(series: str) -> bool:
    return series in KEPT or any(pattern.fullmatch(series) for pattern in PATTERNS)


def _read_by_rules() -> set[str]:
    return {name for rule in RULES for name in series_names(rule["expr"])}


def _read_by_dashboards() -> set[str]:
    return {name for _, _, expr in panel_queries() for name in series_names(expr)}


def _readers() -> set[str]:
    return _read_by_rules() | _read_by_dashboards()


def test_every_series_a_rule_reads_is_kept_or_recorded():
    unknown = {name for name in _read_by_rules() if not kept(name)}
    assert unknown - RECORDED - RULER_SERIES - set(catalog.SYNTHETIC_SERIES) == set()


def test_a_selector_naming_a_job_reads_what_that_job_keeps():
    """`up{job="x"}` is fine (every target has `up`); `foo{job="x"}` needs `foo` in job x's keep-list."""
    by_name = {row.name: set(row.series) for row in JOBS}
    wrong = [
        (rule.get("alert") or rule["record"], selector.name, selector.equals["job"])
        for rule in RULES
        for selector in selectors(rule["expr"])
        if "job" in selector.equals
        and selector.name not in by_name.get(selector.equals["job"], set()) | set(catalog.SYNTHETIC_SERIES)
    ]
    assert wrong == []


def test_every_kept_series_is_read_by_a_rule_or_kept_for_a_reason():
    unexplained = KEPT_BY_PLATFORM - _readers() - set(catalog.KEPT_WITHOUT_RULE)
    assert unexplained == set(), "kept, but no rule or dashboard reads it and no reason is listed"


def test_no_reason_is_listed_for_a_series_a_rule_reads_or_that_is_not_kept():
    listed = set(catalog.KEPT_WITHOUT_RULE)
    assert listed & _readers() == set(), "read by a rule or dashboard: drop its entry from KEPT_WITHOUT_RULE"
    assert listed - KEPT_BY_PLATFORM == set(), "listed but not kept by any of the platform's jobs"
    assert all(reason.strip() for reason in catalog.KEPT_WITHOUT_RULE.values())


def test_the_parser_sees_through_functions_and_operators():
    """Guards the tests above: names inside ranges, subqueries, aggregations and both sides of binary
    operators are found, and a selector without a name is refused."""
    expr = "sum by (a) (rate(x_total[5m])) / ignoring (b) (y > 1) and absent(max_over_time(z[30m:1m]))"
    assert series_names(expr) == {"x_total", "y", "z"}
    with pytest.raises(ValueError, match="without an exact metric name"):
        series_names('{job="pods"}')


# What an alert name looks like in a comment: the platform's alerts all start like this.
ALERT_LIKE = re.compile(r"\b(?:Kube|Node|Prometheus|Postgres|CPU|Target|Cadvisor|Kubelet)[A-Z][A-Za-z]+\b")


def test_the_catalog_names_only_alerts_the_rules_define():
    """The catalog's comments say which alert keeps a series: each name must be a defined alert, else the
    comment claims a reader that does not exist (the keep-list's reason would be false)."""
    text = Path(catalog.__file__).read_text() + Path(jobs.__file__).read_text()
    assert set(ALERT_LIKE.findall(text)) - set(platform_alerts.ALERT_NAMES) == set()
