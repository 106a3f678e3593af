"""The Grafana dashboards and their panels, read from the JSON models observability.dashboards builds."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from observability.dashboards import Folder
from scripts.docs_reference.markdown import code, page, table


def _panels(model: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(row title, panel) for every panel, in the dashboard's order; a collapsed row holds its own."""
    row = ""
    for panel in model.get("panels", []):
        if panel.get("type") == "row":
            row = panel.get("title", "")
            for inner in panel.get("panels", []):
                yield row, inner
        else:
            yield row, panel


def page_text(folders: Sequence[Folder]) -> str:
    body = []
    for folder in folders:
        for model in folder.dashboards:
            body.append(f"## {model['title']}")
            body.append(
                f"Folder *{folder.title}*, uid {code(str(model['uid']))}. {model.get('description', '')}"
            )
            body.append(
                table(
                    ["row", "panel", "type"],
                    [[row, panel.get("title", ""), panel.get("type", "")] for row, panel in _panels(model)],
                )
            )
    return page(
        title="Dashboards", source="the dashboards' JSON models (observability/dashboards)", body=body
    )
