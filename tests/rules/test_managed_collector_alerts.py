"""The platform alerts with `monitoring.collector: managed`: no alert about an agent that does not run, and
`ManagedCollectorAbsent` pages when the managed collector delivers nothing (promtool, on the real file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from observability import catalog
from observability import conventions as c
from observability import platform_alerts as pa
from observability.model.promql import series_names
from tests.rules.alert_cases import BASE_URL, EXTERNAL, KSM
from tests.rules.conftest import write_yaml

REPOSITORY = Path(__file__).resolve().parents[2]
ALERT = "ManagedCollectorAbsent"
APISERVER = (
    f'job="apiserver", instance="10.40.0.11:443", namespace="default", service="kubernetes", {EXTERNAL}'
)
SUMMARY = "No data from AMP's managed collector: the metrics pipeline is down."
DESCRIPTION = (
    "Amazon Managed Prometheus has had no successful scrape of the API server from the managed collector "
    "for 10 minutes: the scraper is not ACTIVE, cannot reach the cluster, or cannot write. No other alert "
    "can fire meanwhile."
)
# Series that only an agent of ours writes about itself.
AGENT_SERIES = re.compile(r"^prometheus_")


def managed_rules() -> list[dict[str, Any]]:
    document = pa.rules_file(runbook_base_url=BASE_URL, managed_collector=True)
    return [rule for group in document["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = pa.rules_file(runbook_base_url=BASE_URL, managed_collector=True)
    return write_yaml(tmp_path_factory.mktemp("managed") / "platform-alerts.yml", document)


def test_promtool_check_rules_passes(promtool, rules_path):
    result = promtool("check", "rules", rules_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(managed_rules())} rules found" in result.stdout


def test_no_alert_reads_what_only_an_agent_writes():
    names = {rule["alert"] for rule in managed_rules()}
    assert not {"PrometheusAgentAbsent", "PrometheusAgentShardDown"} & names
    assert ALERT in names
    for rule in managed_rules():
        assert 'job="prometheus-agent"' not in rule["expr"], rule["alert"]
        assert not {s for s in series_names(rule["expr"]) if AGENT_SERIES.match(s)}, rule["alert"]


# The agent's alerts about itself: its absence and its remote write.
AGENT_ALERTS = {
    "PrometheusAgentAbsent",
    "PrometheusAgentShardDown",
    "PrometheusRemoteStorageFailures",
    "PrometheusRemoteWriteBehind",
    "PrometheusRemoteWriteDesiredShards",
}


def test_every_other_alert_is_the_agents_one_unchanged():
    agent = [r for g in pa.rules_file(runbook_base_url=BASE_URL)["groups"] for r in g["rules"]]
    assert [r for r in managed_rules() if r["alert"] != ALERT] == [
        r for r in agent if r["alert"] not in AGENT_ALERTS
    ]


def _test_file(rules: Path, series: dict[str, str], checks: list[tuple[str, bool]]) -> dict[str, Any]:
    expected = [
        {
            "exp_labels": {c.SEVERITY_LABEL: c.PAGE},
            "exp_annotations": {
                c.SUMMARY: SUMMARY,
                c.DESCRIPTION: DESCRIPTION,
                c.RUNBOOK_URL: f"{BASE_URL}/{ALERT}.md",
            },
        }
    ]
    return {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": [
                    {"eval_time": t, "alertname": ALERT, "exp_alerts": expected if fires else []}
                    for t, fires in checks
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("series", "checks"),
    [
        # Delivery stops at 4m: absent from 5m (AMP's 5-minute lookback), pending 10m, fires after.
        pytest.param(
            {f"up{{{APISERVER}}}": "1x4 _x25", f"up{{{KSM}, {EXTERNAL}}}": "1x4 _x25"},
            [("14m", False), ("25m", True)],
            id="data-stops",
        ),
        # The scraper reaches the cluster but the API server's scrape fails: nothing it sends is trusted.
        pytest.param({f"up{{{APISERVER}}}": "0x30"}, [("9m", False), ("20m", True)], id="api-server-down"),
        pytest.param({f"up{{{APISERVER}}}": "1x30"}, [("25m", False)], id="delivering"),
        # Another job up does not stand in for the API server's (it is the one target always there).
        pytest.param(
            {f"up{{{APISERVER}}}": "1x30", f"up{{{KSM}, {EXTERNAL}}}": "0x30"},
            [("25m", False)],
            id="other-job-down",
        ),
    ],
)
def test_managed_collector_absent(promtool, rules_path, tmp_path, series, checks):
    path = write_yaml(tmp_path / "test.yml", _test_file(rules_path, series, checks))
    result = promtool("test", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runbook_exists_and_its_queries_read_kept_series():
    text = (REPOSITORY / c.runbook_path(ALERT)).read_text()
    assert text.startswith(f"# {ALERT}\n")
    for section in ("## Meaning", "## Impact", "## Diagnosis", "## Remedies"):
        assert f"\n{section}\n" in text
    for query in re.findall(r"```promql\n(.*?)```", text, re.DOTALL):
        assert series_names(query) <= set(catalog.SYNTHETIC_SERIES)
