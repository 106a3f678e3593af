"""The importable dashboards (`make dashboards` -> dist/dashboards/import): Grafana's external export format,
bound to no data source uid; the provisioned ones are the stack's models unchanged."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from observability.dashboards import all_dashboards
from observability.importable_dashboard import importable, input_name

REPOSITORY = Path(__file__).resolve().parents[2]
# What Grafana's "Export for sharing externally" writes for a Prometheus data source.
DS_INPUT = {
    "name": "DS_AMP",
    "label": "Prometheus",
    "description": "the data source the stack provisions with uid 'amp'",
    "type": "datasource",
    "pluginId": "prometheus",
    "pluginName": "Prometheus",
}
DS_REF = {"type": "prometheus", "uid": "${DS_AMP}"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "dashboards"
    subprocess.run([sys.executable, "scripts/dashboards.py", "--out", str(out)], cwd=REPOSITORY, check=True)
    return out


def _load(directory: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_provisioned_dashboards_are_the_stacks_models_unchanged(written):
    assert _load(written / "provisioned") == {model["uid"]: model for model in all_dashboards()}


def test_the_script_writes_each_dashboard_in_its_importable_form(written):
    """`make dashboards` writes what `importable` makes of each provisioned model (the tests below check the
    transform itself, in this process)."""
    expected = {model["uid"]: importable(model, grafana_version="10.4.0") for model in all_dashboards()}
    assert _load(written / "import") == expected


def test_every_importable_dashboard_asks_for_a_prometheus_data_source():
    for provisioned in all_dashboards():
        model = importable(provisioned, grafana_version="10.4.0")
        assert model["__inputs"] == [DS_INPUT]
        assert model["__elements"] == {}
        assert model["id"] is None
        ids = [(r["type"], r["id"], r["name"], r["version"]) for r in model["__requires"]]
        assert ids[:2] == [
            ("grafana", "grafana", "Grafana", "10.4.0"),
            ("datasource", "prometheus", "Prometheus", "1.0.0"),
        ]
        assert {panel for kind, panel, _, _ in ids if kind == "panel"} <= {"stat", "table", "timeseries"}


def test_the_export_of_a_small_dashboard_is_grafanas_export_format():
    """Every part of the transform on one hand-written dashboard, the whole expected file written out from
    Grafana's exporter (DashboardExporter.ts): an AMP-flavoured reference exported as `prometheus`; a query
    without a data source reading its panel's; a collapsed row's panels; a CloudWatch panel kept as its own
    plugin; a query variable losing its saved value and refreshing on load (a "never" refresh would leave it
    empty); an annotation of a data source templated and Grafana's built-in one left alone."""
    amp = {"type": "grafana-amazonprometheus-datasource", "uid": "amp"}
    logs = {"type": "cloudwatch", "uid": "cw-logs.eu"}
    dashboard = {
        "uid": "small",
        "id": 7,
        "panels": [
            {
                "type": "timeseries",
                "datasource": amp,
                "targets": [{"expr": "up"}, {"expr": "x", "datasource": amp}],
            },
            {
                "type": "row",
                "collapsed": True,
                "panels": [
                    {"type": "piechart", "datasource": logs, "targets": [{"expression": "fields @m"}]}
                ],
            },
        ],
        "templating": {
            "list": [
                {"type": "query", "name": "a", "datasource": amp, "current": {"text": "x"}, "options": [1]},
                {"type": "query", "name": "b", "datasource": amp, "refresh": 2, "current": {}, "options": []},
                {"type": "custom", "name": "c", "current": {"text": "y"}},
            ]
        },
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "name": "Annotations",
                },
                {"name": "deploys", "datasource": amp},
            ]
        },
    }
    ds_amp = {"type": "prometheus", "uid": "${DS_AMP}"}
    ds_logs = {"type": "cloudwatch", "uid": "${DS_CW_LOGS_EU}"}
    assert importable(dashboard, grafana_version="12.4.0") == {
        "__inputs": [
            {
                "name": "DS_AMP",
                "label": "Prometheus",
                "description": "the data source the stack provisions with uid 'amp'",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            },
            {
                "name": "DS_CW_LOGS_EU",
                "label": "cloudwatch",
                "description": "the data source the stack provisions with uid 'cw-logs.eu'",
                "type": "datasource",
                "pluginId": "cloudwatch",
                "pluginName": "cloudwatch",
            },
        ],
        "__elements": {},
        "__requires": [  # sorted by id, as the exporter sorts them
            {"type": "datasource", "id": "cloudwatch", "name": "cloudwatch", "version": "1.0.0"},
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "12.4.0"},
            {"type": "panel", "id": "piechart", "name": "piechart", "version": ""},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        ],
        "uid": "small",
        "id": None,
        "panels": [
            {
                "type": "timeseries",
                "datasource": ds_amp,
                "targets": [{"expr": "up", "datasource": ds_amp}, {"expr": "x", "datasource": ds_amp}],
            },
            {
                "type": "row",
                "collapsed": True,
                "panels": [
                    {
                        "type": "piechart",
                        "datasource": ds_logs,
                        "targets": [{"expression": "fields @m", "datasource": ds_logs}],
                    }
                ],
            },
        ],
        "templating": {
            "list": [
                {
                    "type": "query",
                    "name": "a",
                    "datasource": ds_amp,
                    "current": {},
                    "options": [],
                    "refresh": 1,
                },
                {
                    "type": "query",
                    "name": "b",
                    "datasource": ds_amp,
                    "refresh": 2,
                    "current": {},
                    "options": [],
                },
                {"type": "custom", "name": "c", "current": {"text": "y"}},
            ]
        },
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "name": "Annotations",
                },
                {"name": "deploys", "datasource": ds_amp},
            ]
        },
    }


def test_a_query_with_its_own_data_source_keeps_it_and_missing_parts_are_no_error():
    """A query naming another data source than its panel's keeps its own; a dashboard without variables or
    annotations, an expanded row (no `panels` of its own) and a text panel (no data source, no queries) export
    as they are."""
    amp = {"type": "prometheus", "uid": "amp"}
    logs = {"type": "cloudwatch", "uid": "logs"}
    dashboard = {
        "uid": "bare",
        "panels": [
            {"type": "row", "collapsed": False},
            {"type": "text"},
            {"type": "timeseries", "datasource": amp, "targets": [{"expr": "up"}, {"datasource": logs}]},
        ],
    }
    exported = importable(dashboard, grafana_version="10.4.0")
    assert [item["name"] for item in exported["__inputs"]] == ["DS_AMP", "DS_LOGS"]
    assert exported["panels"] == [
        {"type": "row", "collapsed": False},
        {"type": "text"},
        {
            "type": "timeseries",
            "datasource": {"type": "prometheus", "uid": "${DS_AMP}"},
            "targets": [
                {"expr": "up", "datasource": {"type": "prometheus", "uid": "${DS_AMP}"}},
                {"datasource": {"type": "cloudwatch", "uid": "${DS_LOGS}"}},
            ],
        },
    ]
    assert "templating" not in exported
    assert "annotations" not in exported
    assert importable({"uid": "empty"}, grafana_version="10.4.0")["__requires"] == [
        {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"}
    ]


@pytest.mark.parametrize(
    ("uid", "name"),
    [("amp", "DS_AMP"), ("cw-logs.eu", "DS_CW_LOGS_EU"), ("a b/c", "DS_A_B_C"), ("x_1", "DS_X_1")],
)
def test_an_input_is_named_after_its_uid_upper_case_with_every_non_word_character_an_underscore(uid, name):
    assert input_name(uid) == name


@pytest.mark.parametrize("version", ["10.4", "13.0"])
def test_no_panel_query_or_variable_names_the_amp_uid(version):
    for provisioned in all_dashboards(version):
        model = importable(provisioned, grafana_version=f"{version}.0")
        panels = [panel for panel in model["panels"] if panel["type"] != "row"]
        assert panels
        for panel in panels:
            assert panel["datasource"] == DS_REF
            assert [target["datasource"] for target in panel["targets"]] == [DS_REF] * len(panel["targets"])
        for variable in model["templating"]["list"]:
            assert variable["datasource"] == DS_REF
            assert variable["current"] == {}
            assert variable["options"] == []
        # As Grafana's import evaluates `${...}`: every placeholder is a declared input.
        placeholders = {m for s in _strings(model) for m in re.findall(r"\$\{.+?\}", s)}
        assert placeholders == {"${DS_AMP}"}
        assert '"amp"' not in json.dumps(model)


def test_the_transform_leaves_its_input_alone():
    provisioned = all_dashboards()[0]
    before = json.dumps(provisioned, sort_keys=True)
    importable(provisioned, grafana_version="10.4.0")
    assert json.dumps(provisioned, sort_keys=True) == before


def test_the_http_api_body_binds_the_input_and_changes_nothing_else(tmp_path):
    """The documented upload (docs/architecture/grafana.md): `jq -f scripts/dashboard-api-body.jq` gives POST
    /api/dashboards/db's body; bound to uid `amp`, the dashboard is the provisioned one but for what the
    export adds."""
    for provisioned in all_dashboards():
        exported = tmp_path / f"{provisioned['uid']}.json"
        exported.write_text(json.dumps(importable(provisioned, grafana_version="10.4.0")))
        result = subprocess.run(
            ["jq", "--arg", "datasource", "amp", "--arg", "folder", "observability", "-f",
             "scripts/dashboard-api-body.jq", str(exported)],
            cwd=REPOSITORY, capture_output=True, text=True, check=True,
        )  # fmt: skip
        body = json.loads(result.stdout)
        assert body["overwrite"] is True
        assert body["folderUid"] == "observability"
        dashboard = body["dashboard"]
        assert dashboard.pop("id") is None
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                assert target.pop("datasource") == {"type": "prometheus", "uid": "amp"}
        for variable in dashboard["templating"]["list"]:
            assert variable.pop("current") == {}
            assert variable.pop("options") == []
        assert dashboard == provisioned


@pytest.mark.parametrize(
    "panel",
    [
        {"type": "stat", "datasource": {"type": "prometheus"}, "targets": []},
        {"type": "stat", "datasource": {"uid": "amp"}, "targets": []},
        {"type": "stat", "datasource": "amp", "targets": []},
        {"type": "stat", "targets": [{"expr": "up"}]},  # a query reading a panel without a data source
    ],
    ids=["no uid", "no type", "a bare name", "none at all"],
)
def test_a_data_source_reference_without_uid_and_type_is_refused(panel):
    with pytest.raises(ValueError, match=r"^dashboard 'board': a data source reference without uid/type$"):
        importable({"uid": "board", "panels": [panel]}, grafana_version="10.4.0")
