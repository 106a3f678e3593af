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
from observability.importable_dashboard import importable

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


def test_every_importable_dashboard_asks_for_a_prometheus_data_source(written):
    imports = _load(written / "import")
    assert sorted(imports) == sorted(model["uid"] for model in all_dashboards())
    for model in imports.values():
        assert model["__inputs"] == [DS_INPUT]
        assert model["__elements"] == {}
        assert model["id"] is None
        ids = [(r["type"], r["id"], r["name"], r["version"]) for r in model["__requires"]]
        assert ids[:2] == [
            ("grafana", "grafana", "Grafana", "10.4.0"),
            ("datasource", "prometheus", "Prometheus", "1.0.0"),
        ]
        assert {panel for kind, panel, _, _ in ids if kind == "panel"} <= {"stat", "table", "timeseries"}


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


def test_the_http_api_body_binds_the_input_and_changes_nothing_else(written):
    """The documented upload (docs/architecture/grafana.md): `jq -f scripts/dashboard-api-body.jq` gives POST
    /api/dashboards/db's body; bound to uid `amp`, the dashboard is the provisioned one but for what the
    export adds."""
    for provisioned in all_dashboards():
        result = subprocess.run(
            ["jq", "--arg", "datasource", "amp", "--arg", "folder", "observability", "-f",
             "scripts/dashboard-api-body.jq", str(written / "import" / f"{provisioned['uid']}.json")],
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
