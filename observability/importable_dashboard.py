"""A provisioned dashboard turned into the file Grafana's "Export for sharing externally" writes, which any
Grafana's import dialog (Dashboards > New > Import) can bind to a data source the user picks.

The provisioned JSON names its data source by uid (`amp`, which the stack creates); a user's Grafana has
its own uids, and its UI cannot set them. As Grafana's exporter does (public/app/features/dashboard/
components/DashExportModal/DashboardExporter.ts): every data source reference of panels, their queries,
template variables and annotations becomes `${DS_<UID>}`, declared in `__inputs` as a `datasource` input;
`__requires` lists Grafana, the data source plugin and the panel types; `id` is null; query variables lose
their saved `current` value and options. Prometheus-flavoured plugins (Amazon Managed Prometheus's
`grafana-amazonprometheus-datasource`) are exported as `prometheus`, as Grafana does: the import dialog
then offers both Prometheus and AMP (SigV4) data sources (grafana-data's `matchPluginId`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

PROMETHEUS = "prometheus"
# Grafana treats every `grafana-*prometheus-datasource` plugin as Prometheus when exporting and importing.
_PROMETHEUS_FLAVOUR = re.compile(r"^grafana-.*prometheus-datasource$")
# Core plugins' names as Grafana writes them in `__requires` (core panels carry an empty version).
_PLUGIN_NAMES = {PROMETHEUS: "Prometheus", "stat": "Stat", "table": "Table", "timeseries": "Time series"}
# Grafana's variable refresh values: a query variable must not be "never" once its options are dropped.
_REFRESH_NEVER, _REFRESH_ON_DASHBOARD_LOAD = 0, 1


def input_name(uid: str) -> str:
    """The import input standing for the data source with `uid` (`amp` -> `DS_AMP`)."""
    return "DS_" + re.sub(r"\W", "_", uid).upper()


def importable(dashboard: Mapping[str, Any], *, grafana_version: str) -> dict[str, Any]:
    """The dashboard in Grafana's external export format, for Grafana `grafana_version` ("10.4.0")."""
    model = copy.deepcopy(dict(dashboard))
    inputs: dict[str, dict[str, str]] = {}
    requires: dict[tuple[str, str], dict[str, str]] = {}

    def templated(reference: Any) -> dict[str, str]:
        if not isinstance(reference, Mapping) or not reference.get("uid") or not reference.get("type"):
            raise ValueError(f"dashboard {model.get('uid')!r}: a data source reference without uid/type")
        plugin = PROMETHEUS if _PROMETHEUS_FLAVOUR.match(reference["type"]) else reference["type"]
        name = input_name(reference["uid"])
        inputs[name] = {
            "name": name,
            "label": _PLUGIN_NAMES.get(plugin, plugin),
            "description": f"the data source the stack provisions with uid {reference['uid']!r}",
            "type": "datasource",
            "pluginId": plugin,
            "pluginName": _PLUGIN_NAMES.get(plugin, plugin),
        }
        requires[("datasource", plugin)] = _required("datasource", plugin, "1.0.0")
        return {"type": plugin, "uid": "${" + name + "}"}

    def panel(item: dict[str, Any]) -> None:
        if item.get("type") == "row":
            for nested in item.get("panels", []):  # a collapsed row holds its panels
                panel(nested)
            return
        own = item.get("datasource")
        if own is not None:
            item["datasource"] = templated(own)
        for target in item.get("targets", []):
            # A query without its own data source reads the panel's (Grafana's exporter writes it out).
            target["datasource"] = templated(target.get("datasource", own))
        requires[("panel", item["type"])] = _required("panel", item["type"], "")

    for item in model.get("panels", []):
        panel(item)
    for variable in model.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            variable["datasource"] = templated(variable["datasource"])
            variable["current"], variable["options"] = {}, []
            if variable.get("refresh", _REFRESH_NEVER) == _REFRESH_NEVER:
                variable["refresh"] = _REFRESH_ON_DASHBOARD_LOAD
    for annotation in model.get("annotations", {}).get("list", []):
        if not annotation.get("builtIn"):
            annotation["datasource"] = templated(annotation.get("datasource"))
    requires[("grafana", "grafana")] = _required("grafana", "grafana", grafana_version)
    model["id"] = None
    return {
        "__inputs": list(inputs.values()),
        "__elements": {},
        "__requires": sorted(requires.values(), key=lambda r: r["id"]),
        **model,
    }


def _required(kind: str, plugin: str, version: str) -> dict[str, str]:
    name = "Grafana" if kind == "grafana" else _PLUGIN_NAMES.get(plugin, plugin)
    return {"type": kind, "id": plugin, "name": name, "version": version}
