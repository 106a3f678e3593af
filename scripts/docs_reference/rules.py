"""The alerts and the recorded series, read from the rule files the platform loads into AMP
(observability.render): the platform alerts' namespace and every service's SLO namespaces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from observability import conventions
from scripts.docs_reference.markdown import code, page, table

# Rendered with this base, each runbook_url under it names a page of docs/runbooks; the tables link the
# page on this site instead.
RUNBOOKS = "https://runbooks.invalid/docs/runbooks"
SOURCE = "the rule files `make render` writes (observability/render)"


def _runbook(annotations: Mapping[str, str]) -> str:
    url = annotations.get(conventions.RUNBOOK_URL, "")
    prefix = f"{RUNBOOKS}/"
    if url.startswith(prefix):
        name = url.removeprefix(prefix)
        return f"[{name.removesuffix('.md')}](../runbooks/{name})"
    return f"<{url}>" if url else ""


def _unique(rows: Iterable[list[str]]) -> list[list[str]]:
    """`rows` without repeats: an SLO's alert has a rule per window pair, alike in every column here."""
    return [list(row) for row in dict.fromkeys(tuple(row) for row in rows)]


def alerts_page(rule_files: Mapping[str, Mapping[str, Any]]) -> str:
    """One table per rule groups namespace: every alerting rule, in the order AMP receives them."""
    body = []
    for namespace, document in rule_files.items():
        rows = _unique(
            [
                code(rule["alert"]),
                rule.get("labels", {}).get(conventions.SEVERITY_LABEL, ""),
                rule.get("for", ""),
                group["name"],
                rule.get("annotations", {}).get(conventions.SUMMARY, ""),
                _runbook(rule.get("annotations", {})),
            ]
            for group in document["groups"]
            for rule in group["rules"]
            if "alert" in rule
        )
        if rows:
            body += [
                f"## {namespace}",
                table(["alert", "severity", "for", "group", "summary", "runbook"], rows),
            ]
    return page(title="Alerts and runbooks", source=SOURCE, body=body)


def recorded_series_page(rule_files: Mapping[str, Mapping[str, Any]]) -> str:
    """One table per rule groups namespace: each group and the series its recording rules record."""
    body = []
    for namespace, document in rule_files.items():
        rows = [
            [group["name"], ", ".join(code(rule["record"]) for rule in group["rules"] if "record" in rule)]
            for group in document["groups"]
            if any("record" in rule for rule in group["rules"])
        ]
        if rows:
            body += [f"## {namespace}", table(["group", "recorded series"], rows)]
    return page(title="Recorded series", source=SOURCE, body=body)
