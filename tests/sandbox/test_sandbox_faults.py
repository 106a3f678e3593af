"""The fault switches of `Sandbox`, before anything starts: names, parameters and the wiring of the
AMP stand-in (the rules of both services, alerts to the local Alertmanager) and of the Alertmanager (each
team's routes, webhooks to the sink)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any, cast

import pytest
import yaml

from harness import alerting, inventory
from harness.manifests import Manifests
from sandbox.core import EVALUATION_INTERVAL, SCRAPE_INTERVAL, Sandbox
from sandbox.faults import FAULTS, FaultError

INVENTORY_ALERT = "InventoryApiAvailabilityBudgetBurn"  # examples/services/inventory-api/slos.yaml
AMTOOL = os.environ.get("AMTOOL_BIN", str(alerting.UNPACKED / "usr/bin/amtool"))


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    built = Sandbox(tmp_path, cast(Manifests, None))  # nothing started: only its files are written
    # Not started either: the fault only moves its stock file (in the sandbox, it runs on its pod's IP).
    built.inventory = inventory.InventoryApi(tmp_path / "inventory-api")
    yield built
    built.sink.stop()
    built.stack.stop()  # the simulated cluster's directory is made when it is built


def test_an_unknown_fault_names_the_known_ones(sandbox):
    with pytest.raises(FaultError, match="unknown fault 'unplug'; one of: stop-postgres, start-postgres"):
        sandbox.apply("unplug")


def test_added_latency_must_be_a_sensible_delay(sandbox):
    with pytest.raises(FaultError, match=r"ms must be between 1 and 10000 \(got 0\)"):
        sandbox.apply("add-latency", {"ms": 0})


def test_every_listed_fault_has_a_handler_and_no_other(sandbox):
    assert list(sandbox.handlers({})) == [fault.name for fault in FAULTS]


def test_the_cluster_intervals_are_kept():
    assert SCRAPE_INTERVAL == 30
    assert EVALUATION_INTERVAL == 60


def test_the_amp_stand_in_evaluates_the_rules_of_both_services_and_alerts_the_local_alertmanager(
    sandbox, tmp_path
):
    config: dict[str, Any] = yaml.safe_load((tmp_path / "receiver" / "receiver.yml").read_text())
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == [sandbox.alertmanager.address]
    loaded = {path.split("/")[-1].removesuffix(".rules.yml") for path in config["rule_files"]}
    # One namespace per team (services/ and examples/services/), and the platform's alerts.
    assert loaded == {"slos-orders", "slos-warehouse", "platform-alerts"}
    warehouse = yaml.safe_load((tmp_path / "receiver" / "slos-warehouse.rules.yml").read_text())
    alerts = [rule for group in warehouse["groups"] for rule in group["rules"] if "alert" in rule]
    assert {rule["alert"] for rule in alerts} == {INVENTORY_ALERT}
    assert {rule["labels"]["team"] for rule in alerts} == {"warehouse"}


def test_each_team_has_its_own_webhook_receivers(sandbox, tmp_path):
    config = yaml.safe_load((tmp_path / "alertmanager" / "alertmanager.yml").read_text())
    urls = {r["name"]: [w["url"] for w in r["webhook_configs"]] for r in config["receivers"]}
    sink = sandbox.sink.url
    assert urls == {
        "page": [f"{sink}/page"],
        "ticket": [f"{sink}/ticket"],
        "orders-page": [f"{sink}/orders-page"],
        "orders-ticket": [f"{sink}/orders-ticket"],
        "warehouse-page": [f"{sink}/warehouse-page"],
        "warehouse-ticket": [f"{sink}/warehouse-ticket"],
        "watchdog": [f"{sink}/watchdog"],
    }


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["team=warehouse", "severity=page", f"alertname={INVENTORY_ALERT}"], "warehouse-page"),
        (["team=warehouse", "severity=ticket", f"alertname={INVENTORY_ALERT}"], "warehouse-ticket"),
        (["team=orders", "severity=page", "alertname=OrdersApiAvailabilityBudgetBurn"], "orders-page"),
        (["severity=ticket", "alertname=KubeStateMetricsAbsent"], "ticket"),  # the platform's own
    ],
)  # fmt: skip
def test_amtool_routes_each_team_s_alerts_to_its_receivers_in_the_sandbox_s_file(
    sandbox, tmp_path, labels, receiver
):
    config = tmp_path / "alertmanager" / "alertmanager.yml"
    result = subprocess.run(
        [
            str(alerting.UNPACKED / "usr/bin/amtool"),
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            *labels,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def test_the_inventory_fault_breaks_and_fixes_once(sandbox):
    """Taken away and put back: each once, then the switch says where it stands (nothing runs here)."""
    sandbox.inventory.stock_file.parent.mkdir(parents=True)
    sandbox.inventory.stock_file.write_text("{}")
    assert "503" in sandbox.apply("break-inventory")
    assert not sandbox.inventory.stock_file.exists()
    assert sandbox.active["inventory"][0] == "inventory API stock file gone"
    with pytest.raises(FaultError, match="already broken"):
        sandbox.apply("break-inventory")
    sandbox.apply("fix-inventory")
    assert sandbox.inventory.stock_file.read_text() == "{}"
    assert "inventory" not in sandbox.active
    with pytest.raises(FaultError, match="not broken"):
        sandbox.apply("fix-inventory")
