"""The burn-rate alert windows (observability/spec/windows): the SRE Workbook's windows and factors for 30
days, the same budget shares scaled to 28 days, sloth's 7-day table, and the rules a windows file keeps.

Factor = errorBudgetPercent / 100 x period / long window (SRE Workbook, chapter 5, table 5-8): written here
as literals from the Workbook and the files' own comments, never computed by the code under test."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from observability import spec
from observability.model.windows import AlertWindows, load_windows, parse_windows, prometheus_duration
from observability.spec.problems import Problem, SpecError


def table(windows: AlertWindows) -> list[tuple[str, str, str, str, float]]:
    return [
        (p.severity, p.speed, p.long_window, p.short_window, round(windows.factor(p), 4))
        for p in windows.pairs
    ]


# The windows are loaded inside each test, not at import: mutation testing forks from a process that has
# imported the test modules, and would not see a mutated parser otherwise.


def test_thirty_days_are_the_workbooks_windows_and_factors() -> None:
    shipped = load_windows()
    assert table(shipped["30d"]) == [
        ("page", "quick", "1h", "5m", 14.4),  # 2 % of the budget in 1 hour
        ("page", "slow", "6h", "30m", 6.0),  # 5 % in 6 hours
        ("ticket", "quick", "1d", "2h", 3.0),  # 10 % in 1 day
        ("ticket", "slow", "3d", "6h", 1.0),  # 10 % in 3 days
    ]
    assert shipped["30d"].windows == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    assert shipped["30d"].days == 30
    assert shipped["30d"].period_window == "30d"


def test_other_periods_scale_the_factors() -> None:
    shipped = load_windows()
    # 28 days: the 30-day budget shares, factors x 28/30 (sloth's google-28d).
    assert [row[4] for row in table(shipped["28d"])] == [13.44, 5.6, 2.8, 0.9333]
    # 7 days: sloth's 7d table (8 %, 12.5 %, 20 %, 42 % of a week's budget).
    assert [row[4] for row in table(shipped["7d"])] == [13.44, 3.5, 1.4, 0.98]
    # Period series are named as Prometheus prints the duration (sloth: slo:sli_error:ratio_rate4w).
    assert (shipped["28d"].period_window, shipped["7d"].period_window) == ("4w", "1w")
    assert (shipped["28d"].days, shipped["7d"].days) == (28, 7)


@pytest.mark.parametrize(
    ("duration", "printed"),
    [
        ("30d", "30d"),
        ("28d", "4w"),
        ("7d", "1w"),
        ("14d", "2w"),
        ("36h", "1d12h"),
        ("90m", "1h30m"),
        ("5m", "5m"),
        # Years only when exact (a Prometheus year is 365 days), seconds last.
        ("365d", "1y"),
        ("730d", "2y"),
        ("366d", "366d"),
        ("90s", "1m30s"),
        ("3661s", "1h1m1s"),
    ],
)
def test_durations_print_as_prometheus_prints_them(duration: str, printed: str) -> None:
    assert prometheus_duration(duration) == printed


def windows_file(**changes: Any) -> dict[str, Any]:
    """A valid 30-day file; `changes` replace the page/quick pair's fields or, with `spec`, the spec's."""
    quick = {"errorBudgetPercent": 2, "shortWindow": "5m", "longWindow": "1h"} | changes.pop("quick", {})
    spec = {
        "sloPeriod": "30d",
        "page": {"quick": quick, "slow": {"errorBudgetPercent": 5, "shortWindow": "30m", "longWindow": "6h"}},
        "ticket": {
            "quick": {"errorBudgetPercent": 10, "shortWindow": "2h", "longWindow": "1d"},
            "slow": {"errorBudgetPercent": 10, "shortWindow": "6h", "longWindow": "3d"},
        },
    } | changes.pop("spec", {})
    return {"apiVersion": "sloth.slok.dev/v1", "kind": "AlertWindows", "spec": spec}


def problems(document: Any) -> list[str]:
    parsed = parse_windows(document, "w.yaml")
    assert not isinstance(parsed, AlertWindows), "accepted"
    return [str(problem) for problem in parsed]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (["a", "list"], "w.yaml: kind: must be AlertWindows (got 'list')"),
        ({"kind": "ServiceLevel"}, "w.yaml: kind: must be AlertWindows (got 'ServiceLevel')"),
        (
            windows_file(spec={"sloPeriod": "36h"}),
            "w.yaml: spec.sloPeriod: must be a whole number of days like 30d (got '36h')",
        ),
        (
            windows_file(spec={"sloPeriod": 30}),
            "w.yaml: spec.sloPeriod: must be a whole number of days like 30d (got 30)",
        ),
        (windows_file(spec={"ticket": {"quick": {}}}), "w.yaml: spec.ticket.slow: is missing"),
        (
            windows_file(quick={"longWindow": "1 hour"}),
            "w.yaml: spec.page.quick.longWindow: must be a duration like 5m or 1h (got '1 hour')",
        ),
        (
            windows_file(quick={"shortWindow": "0m"}),
            "w.yaml: spec.page.quick.shortWindow: must be a duration like 5m or 1h (got '0m')",
        ),
        (
            windows_file(quick={"errorBudgetPercent": 0}),
            "w.yaml: spec.page.quick.errorBudgetPercent: must be in (0, 100] (got 0)",
        ),
        (
            windows_file(quick={"errorBudgetPercent": 100.5}),
            "w.yaml: spec.page.quick.errorBudgetPercent: must be in (0, 100] (got 100.5)",
        ),
        (
            windows_file(quick={"errorBudgetPercent": True}),
            "w.yaml: spec.page.quick.errorBudgetPercent: must be in (0, 100] (got True)",
        ),
        (
            windows_file(quick={"shortWindow": "1h"}),
            "w.yaml: spec.page.quick: shortWindow must be shorter than longWindow (got 1h, 1h)",
        ),
    ],
)
def test_a_windows_file_breaking_a_rule_is_refused(document: Any, expected: str) -> None:
    assert expected in problems(document)


def test_the_boundaries_are_accepted() -> None:
    """100 % of the budget, a short window one unit shorter than the long one, a one-day period; and a budget
    share just above 0 %."""
    parsed = parse_windows(
        windows_file(spec={"sloPeriod": "1d"}, quick={"errorBudgetPercent": 100, "shortWindow": "59m"}),
        "w.yaml",
    )
    assert isinstance(parsed, AlertWindows)
    assert (parsed.period, parsed.pairs[0].short_window, parsed.pairs[0].budget_percent) == (
        "1d",
        "59m",
        Decimal(100),
    )
    assert parsed.factor(parsed.pairs[0]) == 24.0  # 100 % of a day's budget in 1 hour
    small = parse_windows(windows_file(quick={"errorBudgetPercent": 0.5}), "w.yaml")
    assert isinstance(small, AlertWindows)
    assert small.pairs[0].budget_percent == Decimal("0.5")


# --- load_windows(): the windows folder, each file named after its period, every problem at once ---


def seven_days() -> str:
    return (
        "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n"
        "  page:\n    quick: {errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h}\n"
        "    slow: {errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h}\n"
        "  ticket:\n    quick: {errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d}\n"
        "    slow: {errorBudgetPercent: 42, shortWindow: 6h, longWindow: 3d}\n"
    )


def test_a_windows_folder_loads_by_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "7d.yaml").write_text(seven_days())
    monkeypatch.setattr(spec, "WINDOWS_DIR", tmp_path)

    loaded = load_windows()

    assert list(loaded) == ["7d"]
    assert [round(loaded["7d"].factor(p), 4) for p in loaded["7d"].pairs] == [13.44, 3.5, 1.4, 0.98]


def test_a_file_named_after_another_period_and_broken_files_are_all_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file's name is its period: 30d.yaml holding a 7-day table is refused, and the other files' problems
    (one not YAML, one without its ticket windows) come in the same error."""
    (tmp_path / "30d.yaml").write_text(seven_days())
    (tmp_path / "14d.yaml").write_text("kind: AlertWindows\nspec: [\n")
    (tmp_path / "28d.yaml").write_text(seven_days().replace("7d", "28d").split("  ticket:")[0])
    monkeypatch.setattr(spec, "WINDOWS_DIR", tmp_path)

    with pytest.raises(SpecError) as error:
        load_windows()

    problems = error.value.problems
    assert [(Path(p.file).name, p.path) for p in problems] == [
        ("14d.yaml", ""),  # not YAML: the whole file
        ("28d.yaml", "spec.ticket.quick"),
        ("28d.yaml", "spec.ticket.slow"),
        ("30d.yaml", "spec.sloPeriod"),
    ]
    assert problems[0].message.startswith("is not valid YAML")
    assert problems[1].message == problems[2].message == "is missing"
    named = Problem(str(tmp_path / "30d.yaml"), "spec.sloPeriod", "must be 30d, the file's name")
    assert problems[3] == named
