"""The fault switches of `Sandbox`, before anything starts: names, parameters and the wiring of the
AMP stand-in (generated rules, alerts to the local Alertmanager) and of the Alertmanager (webhooks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import yaml

from harness.manifests import Manifests
from observability.model.load import load_default
from observability.render.rules import rule_files
from sandbox.core import EVALUATION_INTERVAL, SCRAPE_INTERVAL, Sandbox
from sandbox.faults import FAULTS, FaultError


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    built = Sandbox(tmp_path, cast(Manifests, None))  # nothing started: only its files are written
    yield built
    built.sink.stop()
    built.stack.pg.cleanup()  # its data directory is made when it is built


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


def test_the_amp_stand_in_evaluates_the_generated_rules_and_alerts_the_local_alertmanager(sandbox, tmp_path):
    config: dict[str, Any] = yaml.safe_load((tmp_path / "receiver" / "receiver.yml").read_text())
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == [sandbox.alertmanager.address]
    loaded = {path.split("/")[-1].removesuffix(".rules.yml") for path in config["rule_files"]}
    assert loaded == set(rule_files(load_default(), runbook_base_url="https://example.invalid"))
    alertmanager_config = yaml.safe_load((tmp_path / "alertmanager" / "alertmanager.yml").read_text())
    urls = [w["url"] for r in alertmanager_config["receivers"] for w in r["webhook_configs"]]
    assert urls
    assert all(url.startswith(sandbox.sink.url) for url in urls)
