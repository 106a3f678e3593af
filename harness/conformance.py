"""Conformance of SLO rules with sloth's, sloth being the oracle: `check(candidate_rules, spec_path)`.

sloth (harness/sloth.py) generates its rules from the same spec; they are renamed into their own namespace
(record `slo:X` -> `oracle_slo:X`, `sloth_slo_info` -> `oracle_sloth_slo_info`, every reference to them in the
expressions, alert `X` -> `OracleX`; the expressions are rewritten token by token and re-read with the PromQL
parser to prove only those names changed) and loaded with the candidate's rules into one promtool unit test
(`promtool test rules`, of the cluster's Prometheus release) on synthetic input series made from the spec's
SLI queries (harness/slo_series.py). promtool evaluates both every minute of the scenario; the expression
tests then look, over the whole scenario, for the first minute at which the two sides disagree.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness import sloth
from harness.slo_series import Scenario, input_series, parse_query
from harness.stack import PROMTOOL

RECORD_PREFIX = "oracle_"
ALERT_PREFIX = "Oracle"
GROUP_PREFIX = "oracle-"
# Labels of sloth's series that say how it was run, not what it measured.
IGNORED_LABELS: Mapping[str, tuple[str, ...]] = {
    "sloth_slo_info": ("sloth_version", "sloth_mode", "sloth_spec")
}
# A firing alert is identified by these labels (ALERTS carries the alert's and its expression's labels).
ALERT_LABELS = ("alertname", "severity", "sloth_id")
# Values are equal when |candidate - oracle| <= RELATIVE * |oracle| + ABSOLUTE (float noise).
RELATIVE = 1e-9
ABSOLUTE = 1e-12
_NAME_CHARS = "A-Za-z0-9_:"


class ConformanceError(RuntimeError):
    """The comparison could not run (sloth or promtool missing, a spec sloth rejects, a promtool error that
    is not a difference)."""


def check(
    candidate_rules: Mapping[str, Any],
    spec_path: Path,
    *,
    default_slo_period: str = "30d",
    windows_dir: Path | None = None,
    departures: Mapping[str, str] | None = None,
    ignore_labels: Sequence[str] = (),
    alert_labels: Sequence[str] = ALERT_LABELS,
    scenario: Scenario | None = None,
    keep_dir: Path | None = None,
) -> list[str]:
    """The differences between `candidate_rules` (a Prometheus rules file `{"groups": [...]}`, or a
    PrometheusRule) and the rules sloth generates from `spec_path` (`sloth generate --default-slo-period
    ...`, `windows_dir` for `--slo-period-windows-path`), on the same synthetic series (`scenario`), one line
    per difference, empty when they conform. `keep_dir` keeps promtool's files there (to rerun by hand:
    `promtool test rules test.yml`).

    Equal means, at every minute of the scenario (11 hours of 1-minute samples by default, evaluated every
    minute):
    - records: for every record name sloth defines (minus `departures`, record name -> why ours differs on
      purpose), the candidate has exactly the same series (same label sets, restricted to sloth's SLO ids),
      each with the same value within float noise (|ours - sloth's| <= 1e-9 * |sloth's| + 1e-12; NaN only
      where sloth's is NaN); sloth's side must have series, so an empty pair cannot pass. Labels ignored:
      `sloth_version`, `sloth_mode` and `sloth_spec` on `sloth_slo_info` (how sloth was run), and
      `ignore_labels` on every series (labels the candidate adds on purpose);
    - alerts: the set of firing alerts of sloth's alert names, identified by `alert_labels` (alertname,
      severity, sloth_id), agrees within one evaluation: one side firing at minute t means the other fires at
      t-1, t or t+1 (`for`, annotations and other labels are not compared);
    - each file's groups are evaluated in the file's order, sloth's after the candidate's, at the same
      instants; a group reading records of a group after it in its file sees them one evaluation late, as
      in Prometheus;
    - and the scenario is meaningful: every alert rule of sloth fires at some point and none is still firing
      at the end (a difference list says so otherwise).
    """
    documents = sloth.generate(spec_path, default_slo_period=default_slo_period, windows_dir=windows_dir)
    return compare(
        candidate_rules,
        sloth.rules_file(documents),
        spec_path,
        departures=departures,
        ignore_labels=ignore_labels,
        alert_labels=alert_labels,
        scenario=scenario,
        keep_dir=keep_dir,
    )


def compare(
    candidate_rules: Mapping[str, Any],
    oracle_rules: Mapping[str, Any],
    spec_path: Path,
    *,
    departures: Mapping[str, str] | None = None,
    ignore_labels: Sequence[str] = (),
    alert_labels: Sequence[str] = ALERT_LABELS,
    scenario: Scenario | None = None,
    keep_dir: Path | None = None,
) -> list[str]:
    """`check` against rules sloth already generated (`oracle_rules`, not yet renamed)."""
    scenario = scenario or Scenario()
    tests = _expression_tests(
        oracle_rules,
        departures=departures or {},
        ignore_labels=ignore_labels,
        alert_labels=alert_labels,
        scenario=scenario,
    )
    oracle = oracle_namespace(oracle_rules)
    # Each file's groups in their own order: promtool's order is random otherwise, and a group that reads
    # another's records would read them one evaluation late on one side only.
    candidate = {"groups": sloth.rule_groups(candidate_rules)}
    order = [g["name"] for g in [*candidate["groups"], *oracle["groups"]]]
    if len(set(order)) != len(order):
        raise ConformanceError(f"rule group names are not unique across the candidate and sloth's: {order}")
    unit_test = {
        "rule_files": ["candidate.yml", "oracle.yml"],
        "evaluation_interval": "1m",
        "group_eval_order": order,
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series(spec_path, scenario),
                "promql_expr_test": [
                    {"expr": t.expr, "eval_time": f"{scenario.minutes}m", "exp_samples": []} for t in tests
                ],
            }
        ],
    }
    with tempfile.TemporaryDirectory(prefix="conformance-") as scratch:
        directory = keep_dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        _dump(directory / "candidate.yml", candidate)
        _dump(directory / "oracle.yml", oracle)
        _dump(directory / "test.yml", unit_test)
        result = run_promtool(directory / "test.yml")
    if result.returncode == 0:
        return []
    return _differences(result.stdout + result.stderr, {t.expr: t for t in tests})


def run_promtool(test_file: Path) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.is_file():
        raise ConformanceError(
            f"{PROMTOOL} not found: run `make go-tools` (builds it from the Go module proxy)"
        )
    return subprocess.run(
        [str(PROMTOOL), "test", "rules", test_file.name],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


# --- sloth's rules in their own namespace ------------------------------------------------------------------


def oracle_namespace(rules: Mapping[str, Any]) -> dict[str, Any]:
    """sloth's rules with every record, every reference to one, every alert and group renamed (see module)."""
    names = {
        r["record"]: RECORD_PREFIX + r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r
    }
    groups: list[dict[str, Any]] = []
    for group in rules["groups"]:
        renamed_rules: list[dict[str, Any]] = []
        for rule in group["rules"]:
            rule = dict(rule)
            if "record" in rule:
                rule["record"] = names[rule["record"]]
            else:
                rule["alert"] = ALERT_PREFIX + rule["alert"]
            rule["expr"] = rename_metrics(str(rule["expr"]), names)
            renamed_rules.append(rule)
        groups.append({**group, "name": GROUP_PREFIX + group["name"], "rules": renamed_rules})
    return {"groups": groups}


def rename_metrics(expr: str, names: Mapping[str, str]) -> str:
    """`expr` with the metric names in `names` renamed wherever they are selected. Fails when a name is read
    any other way (e.g. `{__name__="..."}`): the renamed rules would then read the candidate's series."""
    renamed = expr
    for old, new in names.items():
        renamed = re.sub(rf"(?<![{_NAME_CHARS}\"']){re.escape(old)}(?![{_NAME_CHARS}\"'])", new, renamed)
    before = [(names.get(s.metric, s.metric), s.matchers) for s in parse_query(expr).selectors]
    after = [(s.metric, s.matchers) for s in parse_query(renamed).selectors]
    if before != after:
        raise ConformanceError(f"could not rename the metrics of {expr!r} safely (got {renamed!r})")
    return renamed


# --- the expression tests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Test:
    expr: str
    what: str  # "<subject>: <what its samples mean>"
    timestamps: bool  # the samples are first minutes (timestamps), not counts
    shift_minutes: int = 0  # the timestamps are this much later than the minute they describe


def _expression_tests(
    oracle_rules: Mapping[str, Any],
    *,
    departures: Mapping[str, str],
    ignore_labels: Sequence[str],
    alert_labels: Sequence[str],
    scenario: Scenario,
) -> list[_Test]:
    rules = [r for g in oracle_rules["groups"] for r in g["rules"]]
    ids = sorted({r.get("labels", {}).get("sloth_id") for r in rules} - {None})
    if not ids:
        raise ConformanceError("sloth's rules carry no sloth_id label")
    only_ids = f'sloth_id=~"{"|".join(_regex_literal(i) for i in ids)}"'
    span = f"[{scenario.minutes}m:1m]"
    tests: list[_Test] = []
    for record in dict.fromkeys(r["record"] for r in rules if "record" in r):
        if record in departures:
            continue
        ours = f"{record}{{{only_ids}}}"
        oracle = f"{RECORD_PREFIX}{record}"
        ignored = sorted({*IGNORED_LABELS.get(record, ()), *ignore_labels})
        on = f"ignoring({', '.join(ignored)})"
        tolerance = f"(abs({oracle}) * {RELATIVE} + {ABSOLUTE})"
        checks = {
            "sloth's series missing from the candidate": f"{oracle} unless {on} {ours}",
            "candidate's series that sloth does not record": f"{ours} unless {on} {oracle}",
            "values differ": f"abs({ours} - {on} {oracle}) > {on} {tolerance}",
            "NaN in the candidate only": f"({ours} != {ours}) unless {on} ({oracle} != {oracle})",
            "NaN in sloth's only": f"({oracle} != {oracle}) unless {on} ({ours} != {ours})",
        }
        for meaning, expr in checks.items():
            tests.append(
                _Test(f"min_over_time(timestamp({expr}){span})", f"record {record}: {meaning}", True)
            )
        tests.append(_Test(f"absent({oracle})", f"record {record}: sloth's side has no series", False))

    alerts = sorted({r["alert"] for r in rules if "alert" in r})
    if not alerts:
        return tests
    by = ", ".join(alert_labels)
    ours_names = "|".join(_regex_literal(a) for a in alerts)
    oracle_names = "|".join(_regex_literal(ALERT_PREFIX + a) for a in alerts)

    def firing_ours(offset: str) -> str:
        return f'max by ({by}) (ALERTS{{alertstate="firing", alertname=~"{ours_names}"}}{offset})'

    def firing_oracle(offset: str) -> str:
        selector = f'ALERTS{{alertstate="firing", alertname=~"{oracle_names}"}}{offset}'
        unprefixed = f'label_replace({selector}, "alertname", "$1", "alertname", "{ALERT_PREFIX}(.+)")'
        return f"max by ({by}) ({unprefixed})"

    # Centred on the minute before: t-1 is compared with t-2, t-1 and t (offsets only look back).
    within = {
        side: " or ".join(f(o) for o in ("", " offset 1m", " offset 2m"))
        for side, f in (("ours", firing_ours), ("oracle", firing_oracle))
    }
    for subject, lhs, rhs in (
        (
            "candidate fires where sloth does not (within a minute)",
            firing_ours(" offset 1m"),
            within["oracle"],
        ),
        (
            "sloth fires where the candidate does not (within a minute)",
            firing_oracle(" offset 1m"),
            within["ours"],
        ),
    ):
        expr = f"min_over_time(timestamp({lhs} unless on({by}) ({rhs})){span})"
        tests.append(_Test(expr, f"alerts: {subject}", True, shift_minutes=1))
    for rule in rules:
        if "alert" not in rule:
            continue
        static = {
            k: v for k, v in (rule.get("labels") or {}).items() if k in alert_labels and k != "alertname"
        }
        matchers = ", ".join(
            [f'alertname="{ALERT_PREFIX}{rule["alert"]}"', 'alertstate="firing"']
            + [f'{k}="{v}"' for k, v in sorted(static.items())]
        )
        label_text = ", ".join(f"{k}={v}" for k, v in sorted(static.items()))
        tests.append(
            _Test(
                f"absent(max_over_time(ALERTS{{{matchers}}}[{scenario.minutes}m]))",
                f"scenario: sloth's alert {rule['alert']} {{{label_text}}} never fires: not compared",
                False,
            )
        )
    tests.append(
        _Test(
            f'ALERTS{{alertstate="firing", alertname=~"{oracle_names}"}}',
            "scenario: sloth's alerts still firing at the end, so their resolution is not compared",
            False,
        )
    )
    return tests


def _regex_literal(text: str) -> str:
    """`text` as an RE2 regex inside a PromQL double-quoted string."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\\\1", text)


# --- promtool's report -------------------------------------------------------------------------------------

_FAILURE = re.compile(r'^\s*expr: "(?P<expr>.*)", time: (?P<time>[^,]+),\s*(?:err: (?P<error>.*))?$')
_SAMPLE = re.compile(r"(\{[^{}]*\}) ([^\s,]+)")


def _differences(output: str, tests: Mapping[str, _Test]) -> list[str]:
    """One line per failed expression test, in the words of `_Test.what`; promtool's own text otherwise."""
    differences: list[str] = []
    current: _Test | None = None
    for line in output.splitlines():
        match = _FAILURE.match(line)
        if match:
            current = tests.get(json.loads(f'"{match["expr"]}"'))
            if current is None or match["error"]:
                subject = current.what.split(":")[0] if current else "promtool"
                differences.append(
                    f"{subject}: promtool could not evaluate: {match['error'] or line.strip()}"
                )
                current = None
            continue
        stripped = line.strip()
        if current is not None and stripped.startswith("got:"):
            samples = _SAMPLE.findall(stripped) or [("", stripped.removeprefix("got:").strip())]
            for labels, value in samples:
                minute = float(value) / 60 - current.shift_minutes
                when = f" first at {_clock(minute)}" if current.timestamps else ""
                differences.append(f"{current.what}: {labels}{when}".rstrip())
            current = None
        elif current is None and stripped and not stripped.startswith(("exp:", "Unit Testing", "FAILED")):
            differences.append(f"promtool: {stripped}")
    if not differences:
        raise ConformanceError(f"promtool failed without a difference it could name:\n{output}")
    return differences


def _clock(minute: float) -> str:
    minutes = round(minute)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _dump(path: Path, document: Any) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000))
