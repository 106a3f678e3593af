"""The conformance harness (harness/conformance.py) with sloth as the oracle, proved on sloth itself.

sloth v0.16.0 is built by `make go-tools`; its example specs and golden outputs are read from the Go module
cache (harness/sloth.py). The examples used are those with only `sli.events` / `sli.raw` SLIs (no SLI or SLO
plugins, no OpenSLO): getting-started (also at the 28d and 7d periods), home-wifi (gauges compared with
thresholds, subqueries), raw-home-wifi (`sli.raw`), no-alerts, kubernetes-apiserver (negative matchers,
histogram buckets), multifile (two documents) and k8s-getting-started (the PrometheusServiceLevel form).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import sloth
from harness.conformance import ConformanceError, check, rename_metrics
from harness.slo_series import Scenario, SpecError, input_series

# (example, default SLO period, sloth's windows directory relative to examples/ or None for its defaults)
EXAMPLES = [
    ("getting-started.yml", "30d", None),
    ("getting-started.yml", "28d", None),
    ("getting-started.yml", "7d", "windows"),
    ("home-wifi.yml", "30d", None),
    ("raw-home-wifi.yml", "30d", None),
    ("no-alerts.yml", "30d", None),
    ("kubernetes-apiserver.yml", "30d", None),
    ("multifile.yml", "30d", None),
    ("k8s-getting-started.yml", "30d", None),
]
MISSING = re.compile(r"^record (\S+): sloth's series missing from the candidate: ")
GOLDEN = sorted({name for name, _, _ in EXAMPLES})
# sloth's recorded series per SLO (its README and the getting-started golden output).
SLOTH_RECORDS_30D = {
    "slo:sli_error:ratio_rate5m",
    "slo:sli_error:ratio_rate30m",
    "slo:sli_error:ratio_rate1h",
    "slo:sli_error:ratio_rate2h",
    "slo:sli_error:ratio_rate6h",
    "slo:sli_error:ratio_rate1d",
    "slo:sli_error:ratio_rate3d",
    "slo:sli_error:ratio_rate30d",
    "slo:objective:ratio",
    "slo:error_budget:ratio",
    "slo:time_period:days",
    "slo:current_burn_rate:ratio",
    "slo:period_burn_rate:ratio",
    "slo:period_error_budget_remaining:ratio",
    "sloth_slo_info",
}


@pytest.fixture(scope="session")
def examples() -> Path:
    return sloth.examples_dir()


def sloth_rules(examples: Path, name: str, period: str = "30d", windows: str | None = None) -> dict[str, Any]:
    windows_dir = examples / windows if windows else None
    return sloth.rules_file(
        sloth.generate(examples / name, default_slo_period=period, windows_dir=windows_dir)
    )


def alter(
    rules: dict[str, Any], *, record: str | None = None, alert: bool = False, old: str, new: str
) -> dict:
    """A copy of `rules` with `old` replaced by `new` in the expression of one record or of the alerts."""
    altered = copy.deepcopy(rules)
    replaced = 0
    for group in altered["groups"]:
        for rule in group["rules"]:
            if (record and rule.get("record") == record) or (alert and "alert" in rule):
                assert old in rule["expr"]
                rule["expr"] = rule["expr"].replace(old, new)
                replaced += 1
    assert replaced
    return altered


def test_sloth_is_the_pinned_release():
    assert sloth.version() == "v0.16.0"


@pytest.mark.parametrize("name", GOLDEN)
def test_sloth_generates_its_own_golden_output(examples, name):
    """The binary works as upstream: its output equals examples/_gen/<name> (generated upstream by
    scripts/examplesgen.sh with `--extra-labels cmd=examplesgen.sh`), except the sloth_version label
    (upstream's `go run` says `dev`)."""

    def without_version(document: dict) -> dict:
        for group in sloth.rule_groups(document):
            for rule in group["rules"]:
                rule.get("labels", {}).pop("sloth_version", None)
        return document

    ours = sloth.generate(examples / name, extra_labels={"cmd": "examplesgen.sh"})
    golden = [d for d in yaml.safe_load_all((examples / "_gen" / name).read_text()) if d]
    assert [without_version(d) for d in ours] == [without_version(d) for d in golden]
    info = [
        r
        for d in ours
        for g in sloth.rule_groups(d)
        for r in g["rules"]
        if r.get("record") == "sloth_slo_info"
    ]
    assert info


@pytest.mark.parametrize(("name", "period", "windows"), EXAMPLES, ids=[f"{n}-{p}" for n, p, _ in EXAMPLES])
def test_sloth_conforms_to_itself(examples, name, period, windows):
    """Both sides run (each record is compared only where sloth's side has series, and every alert rule of
    sloth must fire and resolve in the scenario), and sloth's rules equal themselves."""
    rules = sloth_rules(examples, name, period, windows)
    windows_dir = examples / windows if windows else None
    assert check(rules, examples / name, default_slo_period=period, windows_dir=windows_dir) == []


def test_an_empty_candidate_misses_every_series_and_alert(examples):
    differences = check({"groups": []}, examples / "getting-started.yml")
    missing = [m[1] for d in differences if (m := MISSING.match(d))]
    assert sorted(missing) == sorted(SLOTH_RECORDS_30D)
    alerts = [d for d in differences if d.startswith("alerts: sloth fires where the candidate does not")]
    assert len(alerts) == 2
    assert any('severity="pageteam"' in d for d in alerts)
    assert any('severity="slack"' in d for d in alerts)
    assert len(differences) == len(SLOTH_RECORDS_30D) + 2


def test_a_lower_page_burn_factor_fires_earlier_and_fails(examples):
    rules = sloth_rules(examples, "getting-started.yml")
    page = copy.deepcopy(rules)
    for group in page["groups"]:
        for rule in group["rules"]:
            if rule.get("labels", {}).get("sloth_severity") == "page":
                assert "(14.4 * " in rule["expr"]
                rule["expr"] = rule["expr"].replace("(14.4 * ", "(12 * ")
    differences = check(page, examples / "getting-started.yml")
    assert len(differences) == 1, differences
    assert differences[0].startswith("alerts: candidate fires where sloth does not (within a minute): ")
    assert 'alertname="MyServiceHighErrorRate", severity="pageteam"' in differences[0]


def test_a_changed_window_query_fails_where_the_windows_part(examples):
    rules = sloth_rules(examples, "getting-started.yml")
    altered = alter(rules, record="slo:sli_error:ratio_rate1h", old="[1h]", new="[50m]")
    differences = check(altered, examples / "getting-started.yml")
    # The 50m and 1h windows read the same samples until the series is older than 50 minutes.
    window = [d for d in differences if d.startswith("record slo:sli_error:ratio_rate1h: values differ")]
    assert len(window) == 1
    assert window[0].endswith('sloth_window="1h", tier="2"} first at 0h51m')
    assert all(d.startswith(("record slo:sli_error:ratio_rate1h: ", "alerts: ")) for d in differences)


def test_a_departure_is_not_compared(examples):
    rules = sloth_rules(examples, "getting-started.yml")
    altered = alter(rules, record="slo:period_error_budget_remaining:ratio", old="1 - ", new="0.5 - ")
    spec = examples / "getting-started.yml"
    differences = check(altered, spec)
    assert [d.split(": {")[0] for d in differences] == [
        "record slo:period_error_budget_remaining:ratio: values differ"
    ]
    assert differences[0].endswith("first at 0h01m")
    # A record declared as a departure on purpose is left out of the comparison.
    reason = "budget counted in events"
    assert check(altered, spec, departures={"slo:period_error_budget_remaining:ratio": reason}) == []


def test_labels_must_match_unless_ignored(examples):
    rules = sloth_rules(examples, "getting-started.yml")
    labelled = copy.deepcopy(rules)
    for group in labelled["groups"]:
        for rule in group["rules"]:
            if "record" in rule:
                rule["labels"] = {**rule.get("labels", {}), "team": "payments"}
    spec = examples / "getting-started.yml"
    differences = check(labelled, spec)
    assert len([d for d in differences if "series missing from the candidate" in d]) == len(SLOTH_RECORDS_30D)
    assert len([d for d in differences if "series that sloth does not record" in d]) == len(SLOTH_RECORDS_30D)
    assert check(labelled, spec, ignore_labels=("team",)) == []


def test_a_renamed_alert_fails(examples):
    rules = sloth_rules(examples, "kubernetes-apiserver.yml")
    renamed = copy.deepcopy(rules)
    for group in renamed["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "K8sApiserverLatencyAlert":
                rule["alert"] = "K8sApiserverSlow"
    differences = check(renamed, examples / "kubernetes-apiserver.yml")
    assert len(differences) == 2
    assert all(d.startswith("alerts: sloth fires where the candidate does not") for d in differences)
    assert all('alertname="K8sApiserverLatencyAlert"' in d for d in differences)


def test_rename_touches_only_selected_names():
    names = {"slo:a": "oracle_slo:a"}
    assert rename_metrics('slo:a{x="slo:a"} / slo:ab + rate(slo:a[5m])', names) == (
        'oracle_slo:a{x="slo:a"} / slo:ab + rate(oracle_slo:a[5m])'
    )
    with pytest.raises(ConformanceError, match="could not rename"):
        rename_metrics('{__name__="slo:a"}', names)


def test_series_satisfy_the_matchers_and_carry_the_scenario(tmp_path):
    spec = tmp_path / "slos.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "version": "prometheus/v1",
                "service": "orders",
                "slos": [
                    {
                        "name": "availability",
                        "objective": 99.9,
                        "sli": {
                            "events": {
                                "error_query": 'sum by (cluster) (rate(http_requests_total{job="orders",'
                                'status=~"5.."}[{{.window}}]))',
                                "total_query": 'sum by (cluster) (rate(http_requests_total{job="orders"}'
                                "[{{.window}}]))",
                            }
                        },
                        "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
                    }
                ],
            }
        )
    )
    series = {s["series"]: [float(v) for v in s["values"].split()] for s in input_series(spec)}
    assert set(series) == {
        f'http_requests_total{{job="{job}",status="{status}",cluster="g1",instance="{instance}"}}'
        for job in ("orders", "other")
        for status in ("500", "503", "other")
        for instance in ("i1", "i2")
    }
    scenario = Scenario()
    minute = scenario.peak_start + 5  # inside the peak: 90 % errors at 20 requests per second

    def increase(name: str) -> float:
        return series[name][minute] - series[name][minute - 1]

    bad = sum(increase(n) for n in series if 'job="orders"' in n and 'status="5' in n)
    total = sum(increase(n) for n in series if 'job="orders"' in n)
    assert total == pytest.approx(20 * 60)
    assert bad / total == pytest.approx(0.9)


def test_a_regex_no_candidate_satisfies_is_a_clear_error(tmp_path):
    spec = tmp_path / "slos.yaml"
    query = 'sum(rate(x_total{code=~"7[0-9]{2}"}[{{.window}}]))'
    spec.write_text(
        yaml.safe_dump(
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [
                    {
                        "name": "a",
                        "objective": 99,
                        "sli": {"events": {"error_query": query, "total_query": query}},
                    }
                ],
            }
        )
    )
    with pytest.raises(
        SpecError, match=r"no candidate value of label 'code' satisfies code=~'7\[0-9\]\{2\}'"
    ):
        input_series(spec)


def test_missing_sloth_is_a_clear_error(tmp_path, examples):
    with pytest.raises(sloth.SlothError, match="not found: run `make go-tools`"):
        sloth.generate(examples / "getting-started.yml", binary=tmp_path / "sloth")


def test_a_spec_sloth_rejects_is_a_clear_error(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text('version: "prometheus/v1"\nservice: s\nslos:\n- name: a\n  objective: 120\n')
    with pytest.raises(sloth.SlothError, match=r"sloth generate -i .*bad.yaml failed: "):
        sloth.generate(spec)
