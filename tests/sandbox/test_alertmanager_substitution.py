"""The sandbox's Alertmanager runs the generated routing with one substitution: SNS receivers become
webhooks to the local sink. Everything else (routes, grouping, timers, inhibition, templates) is equal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from config.alerting import AlertingConfig
from harness import alerting
from harness.stack import PROMTOOL, Prometheus
from observability import alertmanager

SINK = "http://127.0.0.1:9999"
AMTOOL = Path(os.environ.get("AMTOOL_BIN", alerting.UNPACKED / "usr/bin/amtool"))


def test_only_the_receivers_change():
    generated = alerting.generated_config()
    local = alerting.with_webhook_receivers(generated, SINK)
    assert {k: v for k, v in local.items() if k != "receivers"} == {
        k: v for k, v in generated.items() if k != "receivers"
    }
    assert [r["name"] for r in local["receivers"]] == [r["name"] for r in generated["receivers"]]
    assert generated["receivers"][0]["sns_configs"], "the generated config must still use SNS"


def test_each_sns_config_becomes_a_webhook_with_the_same_send_resolved():
    topics = alertmanager.Topics(
        page="arn:aws:sns:us-east-1:111111111111:p",
        ticket="arn:aws:sns:us-east-1:111111111111:t",
        watchdog="arn:aws:sns:us-east-1:111111111111:w",
        chat="arn:aws:sns:us-east-1:111111111111:c",
    )
    generated = alertmanager.alertmanager_config(alerting=AlertingConfig(), region="us-east-1", topics=topics)
    local = alerting.with_webhook_receivers(generated, SINK + "/")
    for before, after in zip(generated["receivers"], local["receivers"], strict=True):
        assert "sns_configs" not in after
        assert [w["send_resolved"] for w in after["webhook_configs"]] == [
            s["send_resolved"] for s in before["sns_configs"]
        ]
        assert after["webhook_configs"][0]["url"] == f"{SINK}/{after['name']}"
    page = next(r for r in local["receivers"] if r["name"] == alertmanager.PAGE_RECEIVER)
    assert [w["url"] for w in page["webhook_configs"]] == [f"{SINK}/page", f"{SINK}/page/1"]  # + chat copy
    watchdog = next(r for r in local["receivers"] if r["name"] == alertmanager.WATCHDOG_RECEIVER)
    assert watchdog["webhook_configs"] == [{"url": f"{SINK}/watchdog", "send_resolved": False}]


@pytest.mark.parametrize(
    "labels",
    [
        ["severity=page", "alertname=OrdersApiAvailabilityBudgetBurn", "slo=orders-api-availability"],
        ["severity=ticket", "alertname=KubeStateMetricsAbsent"],
        ["severity=none", "alertname=Watchdog"],
        ["alertname=NoSeverity"],
    ],
)
def test_amtool_routes_the_local_config_like_the_generated_one(tmp_path, labels):
    def route(config: dict) -> str:
        path = tmp_path / f"am-{len(list(tmp_path.iterdir()))}.yml"
        path.write_text(yaml.safe_dump(config))
        (tmp_path / alertmanager.TEMPLATE).write_text(alertmanager.TEMPLATES)
        result = subprocess.run(
            [str(AMTOOL), "config", "routes", "test", f"--config.file={path}", *labels],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    generated = alerting.generated_config()
    assert route(alerting.with_webhook_receivers(generated, SINK)) == route(generated)


def test_amtool_accepts_the_files_the_sandbox_writes(tmp_path):
    manager = alerting.Alertmanager(
        tmp_path, alerting.with_webhook_receivers(alerting.generated_config(), SINK)
    )
    config = tmp_path / "alertmanager.yml"
    assert f"--config.file={config}" in manager.argv
    result = subprocess.run(
        [str(AMTOOL), "check-config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout


def test_the_amp_stand_in_sends_its_alerts_to_the_local_alertmanager(tmp_path):
    receiver = Prometheus.receiver(tmp_path, rule_files={"x": {"groups": []}}, alertmanager="127.0.0.1:9093")
    config_path = tmp_path / "receiver.yml"
    config = yaml.safe_load(config_path.read_text())
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]}
    assert config["global"] == {"evaluation_interval": "60s"}
    result = subprocess.run(
        [str(PROMTOOL), "check", "config", str(config_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert receiver.port
