"""What a panel computes, not only what it reads: each panel's query runs in promtool against series of
known rates, and its value is the one the panel's title promises (written here from that meaning)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.stack import PROMTOOL
from tests.dashboards.queries import all_models, panel_queries
from tests.rules.conftest import write_yaml

# The orders API's series as the agent labels them (its own job), over three statuses of one route:
# 1.25 requests/s answered 200, 0.5/s answered 404 (a client error) and 0.25/s answered 503.
LABELS = (
    'cluster="c", environment="e", job="orders-api", namespace="orders", container="orders-api", method="GET"'
)
PER_MINUTE = {"200": 75, "404": 30, "503": 15}
SERIES = [
    {
        "series": f'http_requests_total{{{LABELS}, route="/orders", status="{status}"}}',
        "values": f"0+{per_minute}x20",
    }
    for status, per_minute in PER_MINUTE.items()
]
# Grafana's variables as the panel would see them with "All" selected.
VARIABLES = {'"$cluster"': '".*"', '"$environment"': '".*"'}


def query(uid: str, title: str) -> str:
    (expr,) = [expr for u, t, expr in panel_queries(all_models()) if (u, t) == (uid, title)]
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


@pytest.mark.parametrize(
    ("uid", "title", "labels", "value"),
    [
        # 5xx among all requests: 0.25 / 2 (a 404 is the client's error, not the service's).
        ("eks-obs-webapp", "5xx share by route", '{route="/orders"}', 0.125),
        ("svc-orders-api", "Error share", "{}", 0.125),
    ],
)
def test_error_share_panels_count_5xx_among_all_requests(
    tmp_path: Path, uid: str, title: str, labels: str, value: float
) -> None:
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: run `make go-tools`"
    rules = write_yaml(
        tmp_path / "panel.rules.yml",
        {"groups": [{"name": "panel", "rules": [{"record": "panel:value", "expr": query(uid, title)}]}]},
    )
    tests = write_yaml(
        tmp_path / "panel.test.yml",
        {
            "rule_files": [str(rules)],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": SERIES,
                    "promql_expr_test": [
                        {
                            "expr": "panel:value",
                            "eval_time": "10m",
                            "exp_samples": [{"labels": f"panel:value{labels}", "value": value}],
                        }
                    ],
                }
            ],
        },
    )
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(tests)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_active_series_counts_each_agent_shard_once(tmp_path: Path) -> None:
    """Two shards of two replicas: a shard's replicas hold the same targets' series (1,000 and 1,004 for
    shard 0, 400 and 402 for shard 1, the difference a scrape in flight), and AMP keeps one replica's
    samples: the cluster sends 1,004 + 402 series, not the 2,806 of the four agents together."""
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: run `make go-tools`"
    held = {"prometheus-agent-0": 1000, "prometheus-agent-1": 1004}
    held |= {"prometheus-agent-shard-1-0": 400, "prometheus-agent-shard-1-1": 402}
    series = [
        {
            "series": (
                f'prometheus_agent_active_series{{cluster="c", environment="e", job="prometheus-agent", '
                f'namespace="monitoring", pod="{pod}", container="prometheus"}}'
            ),
            "values": f"{count}x20",
        }
        for pod, count in held.items()
    ]
    rules = write_yaml(
        tmp_path / "panel.rules.yml",
        {
            "groups": [
                {
                    "name": "panel",
                    "rules": [{"record": "panel:value", "expr": query("eks-obs-agent", "Active series")}],
                }
            ]
        },
    )
    tests = write_yaml(
        tmp_path / "panel.test.yml",
        {
            "rule_files": [str(rules)],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": series,
                    "promql_expr_test": [
                        {
                            "expr": "panel:value",
                            "eval_time": "10m",
                            "exp_samples": [{"labels": "panel:value", "value": 1406}],
                        }
                    ],
                }
            ],
        },
    )
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(tests)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
