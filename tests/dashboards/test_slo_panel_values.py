"""The SLO panels of a service's dashboard show the recorded series: promtool runs the orders API's SLO rules
on two hours of known traffic, evaluates each panel's query and the series it should equal, and both take
the value the SLO's meaning gives (a 99.9 % objective: an error budget of 0.001). The traffic is steady, so
the burn rates over 5m and over the period agree: the `sloth_window` label tells which one a panel reads."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.stack import PROMTOOL
from observability.model.load import load_default
from observability.render.slo_rules import groups
from tests.dashboards.queries import all_models, parsable
from tests.dashboards.test_panel_values import VARIABLES
from tests.rules.conftest import write_yaml
from tests.rules.test_slo_rules import counter, labels, rounded

UID = "svc-orders-api"
THIS = 'sloth_id="orders-api-availability"'
# The series of the availability SLO as the rules record them: the service file's labels and the SLO's ids,
# and the agent's external labels where the series come from the service's own (per cluster) series.
IDS = {
    "tier": "1",
    "sloth_id": "orders-api-availability",
    "sloth_service": "orders-api",
    "sloth_slo": "availability",
}
CONTEXT = {"cluster": "test-cluster", "environment": "test"}
TARGET = {
    **CONTEXT,
    "job": "orders-api",
    "namespace": "orders",
    "container": "orders-api",
    "route": "/orders",
}
MINUTES = 120  # two hours of a 30-day period seen
PER_MINUTE = 2000  # requests


def panel(title: str, legend: str | None = None) -> str:
    """The availability SLO's query of the panel `title` (its target with `legend`, for a graph)."""
    (model,) = [m for m in all_models() if m["uid"] == UID]
    (expr,) = [
        parsable(target["expr"])
        for p in model["panels"]
        if p["title"] == title
        for target in p["targets"]
        if THIS in target["expr"] and legend in (None, target.get("legendFormat"))
    ]
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def series(bad_per_minute: int) -> list[dict[str, str]]:
    """The orders API's requests for two hours: `bad_per_minute` of 2000 a minute answered 503."""
    return [
        {
            "series": f"http_requests_total{labels(**TARGET, status='200')}",
            "values": counter([PER_MINUTE - bad_per_minute] * MINUTES),
        },
        {
            "series": f"http_requests_total{labels(**TARGET, status='503')}",
            "values": counter([bad_per_minute] * MINUTES),
        },
    ]


def checks(
    *, ratio: float, burn: float, remaining: float, firing: int
) -> list[tuple[str, str, float, dict[str, str]]]:
    """(panel query, the recorded series it shows, their value, their labels) at the end of the two hours."""
    measured = {**IDS, **CONTEXT}
    # A burn rate keeps the window of the ratio it divides (as sloth's do): the period's, or 5m.
    period, now = {**measured, "sloth_window": "30d"}, {**measured, "sloth_window": "5m"}
    out = [
        (
            panel("Error budget remaining"),
            f"slo:period_error_budget_remaining:ratio{{{THIS}}}",
            remaining,
            period,
        ),
        (panel("Burn rate over 30d"), f"slo:period_burn_rate:ratio{{{THIS}}}", burn, period),
        (panel("Burn rate now (5m)"), f"slo:current_burn_rate:ratio{{{THIS}}}", burn, now),
        (panel("Error ratio by window", "error budget"), f"slo:error_budget:ratio{{{THIS}}}", 0.001, IDS),
        (
            panel("Burn-rate alerts firing"),
            f'count(ALERTS{{alertstate="firing", {THIS}}}) or vector(0)',
            firing,
            {},
        ),
    ]
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
        recorded = f"slo:sli_error:ratio_rate{window}{{{THIS}}}"
        out.append(
            (panel("Error ratio by window", window), recorded, ratio, {**measured, "sloth_window": window})
        )
    return out


@pytest.mark.parametrize(
    ("bad_per_minute", "expected"),
    [
        # 15 % of requests fail: 150 x the budget, over every alert window, so all four window pairs fire
        # (their factors are 14.4, 6, 3 and 1). Two hours of 30 days at 150 x the budget spend
        # 150 x 2 / 720 = 5/12 of it (observability/render/slo_rules.py: the budget counts the period seen).
        (300, {"ratio": 0.15, "burn": 150.0, "remaining": 7 / 12, "firing": 4}),
        # 1 request in 2000 fails: half the budget, no alert, 0.5 x 2 / 720 = 1/720 of the budget spent.
        (1, {"ratio": 0.0005, "burn": 0.5, "remaining": 719 / 720, "firing": 0}),
    ],
    ids=["burning", "within-budget"],
)
def test_slo_panels_show_the_recorded_series(
    tmp_path: Path, bad_per_minute: int, expected: dict[str, Any]
) -> None:
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: run `make go-tools`"
    services = load_default()
    service = services.service("orders-api")
    document = {
        "groups": groups(service, services.windows_of(service), runbook_base_url="https://example.invalid")
    }
    rules = write_yaml(tmp_path / "slo.rules.yml", document)
    exprs = [
        {
            "expr": f"round({expr}, 1e-9)",
            "eval_time": f"{MINUTES}m",
            "exp_samples": [{"labels": labels(**want), "value": rounded(value)}],
        }
        for shown, recorded, value, want in checks(**expected)
        for expr in (shown, recorded)
    ]
    tests = write_yaml(
        tmp_path / "slo.test.yml",
        {
            "rule_files": [str(rules)],
            "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series(bad_per_minute), "promql_expr_test": exprs}],
        },
    )
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(tests)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
