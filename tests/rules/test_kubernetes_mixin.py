"""kubernetes-mixin's own promtool cases, run against our platform alerts for every alert both define.

The cases are data (tests/rules/kubernetes_mixin/, one file per mixin test file, read at the commit
mixin.yaml names): the mixin's input series and evaluation times, its expected labels with its severities
mapped to ours, our descriptions. A case is `pass` (it passes as the mixin wrote it, severities and
annotations aside) or `differs`: our alert differs on purpose, so the mixin's expectation must fail against
our rules (else the difference is gone and the case should be `pass`), and `ours` (the reason, input series
renamed, our expectation) must pass. Every mixin alert we do not define is listed, with its reason, in
docs/platform-alerts.md.

The cases run on Prometheus 3's promtool (the version the mixin's own tests run, built by `make go-tools`):
they are written for its range windows, which exclude their start. On Debian's promtool 2.42, six of them
fail for that alone (a `changes` count one higher, `max_over_time` and `for` one sample later), with
expressions identical to the mixin's. The platform's own cases (test_platform_alerts.py) run on both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from observability import conventions as c
from observability import platform_alerts as pa
from tests.rules.alert_cases import BASE_URL, alert
from tests.rules.conftest import write_yaml

REPOSITORY = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("kubernetes_mixin")
MIXIN = yaml.safe_load((DATA / "mixin.yaml").read_text())
CASE_FILES = sorted(p for p in DATA.glob("*.yaml") if p.name != "mixin.yaml")
CASES = [(path.name, case) for path in CASE_FILES for case in yaml.safe_load(path.read_text())["cases"]]
SHARED = set(MIXIN["alerts"]) & set(pa.ALERT_NAMES)
LEFT_OUT_DOC = REPOSITORY / "docs" / "platform-alerts.md"
LEFT_OUT_HEADING = "## kubernetes-mixin alerts left out, and why"


def _ours(expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mixin's expectations in our terms: its severities mapped, our summary and runbook link added."""
    tests = []
    for check in expectations:
        check = {"eval_time": check["eval_time"], "alertname": check["alertname"], "exp_alerts": []} | check
        exp_alerts = []
        for expected in check["exp_alerts"]:
            severity = MIXIN["severities"][expected["exp_labels"][c.SEVERITY_LABEL]]
            exp_alerts.append(
                {
                    "exp_labels": expected["exp_labels"] | {c.SEVERITY_LABEL: severity},
                    "exp_annotations": {
                        c.SUMMARY: alert(check["alertname"], severity).summary,
                        c.DESCRIPTION: expected["exp_annotations"]["description"],
                        c.RUNBOOK_URL: f"{BASE_URL}/{check['alertname']}.md",
                    },
                }
            )
        tests.append(check | {"exp_alerts": exp_alerts})
    return tests


def _promtool_file(
    rules: Path, case: dict[str, Any], expectations: list[dict[str, Any]], renamed: dict[str, str]
) -> dict[str, Any]:
    return {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": case["mixin"],
                "interval": case["interval"],
                "input_series": [
                    {"series": renamed.get(s["series"], s["series"]), "values": s["values"]}
                    for s in case["input_series"]
                ],
                "alert_rule_test": _ours(expectations),
            }
        ],
    }


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = pa.rules_file(runbook_base_url=BASE_URL)
    return write_yaml(tmp_path_factory.mktemp("platform-alerts") / "platform-alerts.yml", document)


@pytest.mark.parametrize(
    ("file", "case"), CASES, ids=[f"{file}:{case['mixin'].split(':')[0]}" for file, case in CASES]
)
def test_mixin_case(promtool3, rules_path, tmp_path, file, case):
    mixins = _promtool_file(rules_path, case, case["alert_rule_test"], {})
    result = promtool3("test", "rules", write_yaml(tmp_path / "mixin.yml", mixins))
    if case["outcome"] == "pass":
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert case["outcome"] == "differs", case["outcome"]
    alertnames = {check["alertname"] for check in case["alert_rule_test"]}
    assert result.returncode == 1, f"{case['mixin']}: the mixin's expectation passes: declare it `pass`"
    failure = result.stdout + result.stderr
    assert re.search(rf"alertname: ({'|'.join(alertnames)}),", failure), failure
    ours = case["ours"]
    expectations = ours.get("alert_rule_test", case["alert_rule_test"])
    result = promtool3(
        "test",
        "rules",
        write_yaml(
            tmp_path / "ours.yml", _promtool_file(rules_path, case, expectations, ours.get("series", {}))
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cases_are_pass_or_declared_differences():
    for file, case in CASES:
        assert case["outcome"] in {"pass", "differs"}, (file, case["mixin"])
        assert ("ours" in case) == (case["outcome"] == "differs"), (file, case["mixin"])
        if "ours" in case:
            assert case["ours"]["reason"].strip(), (file, case["mixin"])
            assert set(case["ours"]) - {"reason"} <= {"series", "alert_rule_test"}, (file, case["mixin"])
            assert set(case["ours"]) != {"reason"}, f"{case['mixin']}: `ours` changes nothing"
            for old in case["ours"].get("series", {}):
                assert old in {s["series"] for s in case["input_series"]}, (file, old)


def test_cases_come_from_one_mixin_commit():
    for path in CASE_FILES:
        source = yaml.safe_load(path.read_text())["source"]
        assert source["repository"] == MIXIN["repository"]
        assert source["commit"] == MIXIN["commit"]
        assert source["file"] == f"tests/{path.name}"


def test_every_shared_alert_runs_the_mixins_cases():
    """Every alert both define runs every mixin case for it, unless the mixin has none for it."""
    covered = {check["alertname"] for _, case in CASES for check in case["alert_rule_test"]}
    without = set(MIXIN["without_cases"])
    assert covered <= SHARED, "a case for an alert we do not define"
    assert without <= SHARED
    assert covered == SHARED - without


def test_every_mixin_alert_we_leave_out_says_why():
    """docs/platform-alerts.md has a row `| <alert> | <reason> |` for each mixin alert we do not define."""
    section = LEFT_OUT_DOC.read_text().split(LEFT_OUT_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| ([A-Za-z]+) \| (.+) \|$", section, re.MULTILINE))
    left_out = set(MIXIN["alerts"]) - set(pa.ALERT_NAMES)
    assert left_out - set(rows) == set(), "left out without a reason"
    assert all(len(rows[name]) > 20 for name in left_out)
    assert set(rows) & set(MIXIN["alerts"]) & set(pa.ALERT_NAMES) == set(), "listed as left out, but defined"
