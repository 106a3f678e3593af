"""What AMP refuses in an Alertmanager definition although `amtool check-config` accepts it.

AMP: only SNS receivers (`sns_configs`), each with `sigv4.region`; no `api_url` (AMP sets it) and no
`http_config` (no proxies); `repeat_interval` is capped at 5 days. One message per violation.
Sources: docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-receiver-config.html and
AMP-alertmanager-config.html.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

MAX_REPEAT_SECONDS = 5 * 24 * 3600
SNS_FIELDS = frozenset({"topic_arn", "sigv4", "subject", "message", "attributes", "send_resolved"})
REFUSED_SNS_FIELDS = {
    "api_url": "AMP sets the SNS endpoint itself",
    "http_config": "AMP supports no HTTP client settings (proxies)",
}
# Alertmanager's duration syntax (prometheus/common model.ParseDuration).
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration_seconds(value: str) -> float | None:
    match = _DURATION.match(value) if value else None
    if match is None:
        return None
    return sum(int(part or 0) * unit for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True))


def lint(document: dict[str, Any]) -> list[str]:
    """Problems of an AMP definition document (`alertmanager_config` string + `template_files`)."""
    text = document.get("alertmanager_config")
    if not isinstance(text, str):
        return ["alertmanager_config: must be the Alertmanager configuration as a YAML string"]
    config = yaml.safe_load(text) or {}
    problems = []
    if "http_config" in (config.get("global") or {}):
        problems.append(f"global.http_config: refused: {REFUSED_SNS_FIELDS['http_config']}")
    for receiver in config.get("receivers") or []:
        problems.extend(_receiver_problems(receiver))
    problems.extend(_route_problems(config.get("route") or {}, "route"))
    return problems


def lint_text(text: str) -> list[str]:
    """`lint` of a definition file's text."""
    return lint(yaml.safe_load(text))


def _receiver_problems(receiver: dict[str, Any]) -> Iterator[str]:
    where = f"receivers[{receiver.get('name')}]"
    for key in sorted(set(receiver) - {"name", "sns_configs"}):
        yield f"{where}.{key}: AMP supports only sns_configs receivers"
    for index, sns in enumerate(receiver.get("sns_configs") or []):
        at = f"{where}.sns_configs[{index}]"
        for key in sorted(set(sns) - SNS_FIELDS):
            reason = REFUSED_SNS_FIELDS.get(key, f"AMP accepts only {sorted(SNS_FIELDS)}")
            yield f"{at}.{key}: refused: {reason}"
        if not sns.get("topic_arn"):
            yield f"{at}.topic_arn: required (AMP sends to SNS topics only)"
        if not (sns.get("sigv4") or {}).get("region"):
            yield f"{at}.sigv4.region: required by AMP"


def _route_problems(route: dict[str, Any], where: str) -> Iterator[str]:
    repeat = route.get("repeat_interval")
    if repeat is not None:
        seconds = duration_seconds(str(repeat))
        if seconds is None:
            yield f"{where}.repeat_interval: not a duration (got {repeat!r})"
        elif seconds > MAX_REPEAT_SECONDS:
            yield f"{where}.repeat_interval: must be at most 5d, AMP's cap (got {repeat!r})"
    for index, child in enumerate(route.get("routes") or []):
        yield from _route_problems(child, f"{where}.routes[{index}]")
