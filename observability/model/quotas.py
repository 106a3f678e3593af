"""The limits rendered artifacts must fit in, read from `observability/spec/amp-quotas.yaml`: one
typed value per quota, with the page it comes from (the numbers live only in that file)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from observability import spec
from observability.spec.problems import Collector, Problem, SpecError

VERSION = "quotas/v1"


@dataclass(frozen=True)
class Quota:
    value: float
    unit: str
    source: str
    unverified: str = ""  # why the value is a margin of ours, not a number read from the source


@dataclass(frozen=True)
class Quotas:
    rule_namespace_bytes: Quota
    rule_namespace_fill: Quota
    namespace_and_group_name_bytes: Quota
    namespace_name_characters: Quota
    rules_per_workspace: Quota
    alertmanager_definition_bytes: Quota
    configmap_bytes: Quota
    template_bytes: Quota

    @property
    def namespace_budget_bytes(self) -> int:
        """How full the renderer fills a rules file before it opens the next namespace."""
        return int(self.rule_namespace_bytes.value * self.rule_namespace_fill.value)


@functools.cache
def load_quotas(path: Path = spec.QUOTAS_FILE) -> Quotas:
    file = spec.display(path)
    document = spec.read(path)
    if isinstance(document, Problem):
        raise SpecError([document])
    problems = Collector(file)
    if not isinstance(document, dict) or document.get("version") != VERSION:
        got = document.get("version") if isinstance(document, dict) else document
        raise SpecError([Problem(file, "version", f"must be {VERSION!r} (got {got!r})")])
    entries = document.get("quotas")
    entries = entries if isinstance(entries, dict) else {}
    quotas: dict[str, Quota] = {}
    for name in Quotas.__dataclass_fields__:
        entry = entries.get(name)
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(entry, dict):
            problems.at(f"quotas.{name}", "is missing")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.at(f"quotas.{name}.value", f"must be a positive number (got {value!r})")
        elif not isinstance(entry.get("source"), str) or not entry["source"]:
            problems.at(f"quotas.{name}.source", "must say where the value comes from")
        else:
            quotas[name] = Quota(
                value=value,
                unit=str(entry.get("unit", "")),
                source=entry["source"],
                unverified=str(entry.get("unverified", "")),
            )
    if problems.problems:
        raise SpecError(problems.problems)
    return Quotas(**quotas)
