"""Prometheus target relabeling, re-implemented for fast unit tests of the generated rules.

Covers what the generated config uses (replace, keep, drop, keepequal, dropequal, labeldrop, labelkeep,
labelmap) with Prometheus's semantics: anchored regexes (`^(?:re)$`), `;`-joined source values, missing
labels read as "", `$1`/`${name}` expansion (Go's rules: `$1x` is the group named `1x`), an empty result
deletes the target label. `targets_of` then does what the scrape manager does with a discovered target
(defaults before relabeling, default port, `instance`, dropping `__` labels, de-duplication).

It is checked against the real Prometheus in test_agent_targets.py: same inputs, same targets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Labels = dict[str, str]
_EXPAND = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


def _expand(template: str, match: re.Match[str]) -> str:
    def group(m: re.Match[str]) -> str:
        if m.group(3):
            return "$"
        name = m.group(1) or m.group(2)
        try:
            value = match.group(int(name)) if name.isdigit() else match.group(name)
        except IndexError:  # no such group: Go expands it to ""
            return ""
        return value or ""

    return _EXPAND.sub(group, template)


def _regex(rule: Mapping[str, Any]) -> re.Pattern[str]:
    return re.compile(f"^(?:{rule.get('regex', '(.*)')})$", re.ASCII | re.DOTALL)


def relabel(labels: Mapping[str, str], rules: Sequence[Mapping[str, Any]]) -> Labels | None:
    """The labels after `rules`, or None if a rule dropped the target."""
    current = dict(labels)
    for rule in rules:
        action = rule.get("action", "replace")
        regex = _regex(rule)
        value = rule.get("separator", ";").join(current.get(s, "") for s in rule.get("source_labels", []))
        if action == "keep":
            if not regex.match(value):
                return None
        elif action == "drop":
            if regex.match(value):
                return None
        elif action == "keepequal":
            if value != current.get(rule["target_label"], ""):
                return None
        elif action == "dropequal":
            if value == current.get(rule["target_label"], ""):
                return None
        elif action == "replace":
            match = regex.match(value)
            if match is None:
                continue
            target = _expand(rule["target_label"], match)
            result = _expand(rule.get("replacement", "$1"), match)
            if result:
                current[target] = result
            else:
                current.pop(target, None)
        elif action == "labeldrop":
            current = {k: v for k, v in current.items() if not regex.match(k)}
        elif action == "labelkeep":
            current = {k: v for k, v in current.items() if regex.match(k)}
        elif action == "labelmap":
            for key, val in list(current.items()):
                match = regex.match(key)
                if match:
                    current[_expand(rule.get("replacement", "$1"), match)] = val
        else:
            raise NotImplementedError(f"relabel action {action!r}")
    return current


@dataclass(frozen=True, order=True)
class ScrapeTarget:
    """What Prometheus scrapes: the URL and the target's public labels (job, instance, ...)."""

    url: str
    labels: tuple[tuple[str, str], ...]

    @property
    def label_dict(self) -> Labels:
        return dict(self.labels)


def targets_of(
    job: Mapping[str, Any], discovered: Iterable[Mapping[str, str]], interval: str = "30s"
) -> list[ScrapeTarget]:
    """The de-duplicated targets `job` scrapes from `discovered` (sorted)."""
    result = set()
    for labels in discovered:
        defaults = {
            "job": job["job_name"],
            "__scheme__": job.get("scheme", "http"),
            "__metrics_path__": job.get("metrics_path", "/metrics"),
            "__scrape_interval__": interval,
        }
        after = relabel(defaults | dict(labels), job.get("relabel_configs", []))
        if after is None:
            continue
        address = after["__address__"]
        if not address.startswith("[") and address.count(":") > 1:
            raise ValueError(f"invalid address {address!r}: an IPv6 address needs brackets and a port")
        bracketed = address.startswith("[")
        if (bracketed and "]:" not in address) or (not bracketed and ":" not in address):
            address = f"{address}:{443 if after['__scheme__'] == 'https' else 80}"  # the default port
        after["__address__"] = address
        after.setdefault("instance", address)
        public = tuple(sorted((k, v) for k, v in after.items() if not k.startswith("__") and v))
        result.add(ScrapeTarget(f"{after['__scheme__']}://{address}{after['__metrics_path__']}", public))
    return sorted(result)


def kept_names(job: Mapping[str, Any], metric_names: Iterable[str]) -> set[str]:
    """The metric names the job's metric_relabel_configs let through (a `_bucket` name counts as kept
    when its +Inf bucket is: trimmed histograms keep some boundaries, and always +Inf)."""
    rules = job.get("metric_relabel_configs", [])
    return {
        name
        for name in metric_names
        if relabel({"__name__": name} | ({"le": "+Inf"} if name.endswith("_bucket") else {}), rules)
        is not None
    }
