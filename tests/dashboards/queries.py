"""The PromQL of every panel of the generated dashboards, ready for the PromQL parser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from observability.dashboards import all_dashboards, folders
from observability.model.load import load_default

# Grafana's interval variables are not PromQL: any duration stands in for them.
_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b")


def parsable(expr: str) -> str:
    return _INTERVALS.sub("5m", expr)


def service_models() -> list[dict[str, Any]]:
    """The services' dashboards (one folder each after the platform's), built when a test asks: mutation
    testing forks from a process that has imported the test modules, so a model built at import would hide a
    mutated builder."""
    return [model for folder in folders(load_default())[1:] for model in folder.dashboards]


def all_models() -> list[dict[str, Any]]:
    """The platform's dashboards, then the services'."""
    return all_dashboards() + service_models()


def panel_queries(models: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, str, str]]:
    """(dashboard uid, panel title, parsable expr) for every panel target."""
    for model in all_dashboards() if models is None else models:
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                yield model["uid"], panel["title"], parsable(target["expr"])
