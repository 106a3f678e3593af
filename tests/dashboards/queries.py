"""The PromQL of every panel of the generated dashboards, ready for the PromQL parser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from observability.dashboards import all_dashboards

# Grafana's interval variables are not PromQL: any duration stands in for them.
_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b")


def parsable(expr: str) -> str:
    return _INTERVALS.sub("5m", expr)


def panel_queries(models: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, str, str]]:
    """(dashboard uid, panel title, parsable expr) for every panel target."""
    for model in all_dashboards() if models is None else models:
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                yield model["uid"], panel["title"], parsable(target["expr"])
