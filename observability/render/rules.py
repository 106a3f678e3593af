"""Every rules file the platform loads into Amazon Managed Prometheus: one rule groups namespace each.

The SLO rules are split by owner team: team `payments` gets namespace `slos-payments`, filled with its
services' rule groups (services in name order, each service's groups kept together) up to the fill
budget of `observability/spec/amp-quotas.yaml`; when the next service would not fit, the team's next
namespace opens (`slos-payments-2`, `-3`, ...). A namespace's name is create-only in CloudFormation (a
rename replaces it), so names depend only on the team and the shard number: adding a service or a team
never renames an existing namespace; at most it moves a later service of the same team into that team's
next namespace. Platform alerts keep their own namespace. A service whose rules alone exceed one
namespace's size fails with its SLO file named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from observability import platform_alerts, spec
from observability.model.load import Services
from observability.model.quotas import Quotas, load_quotas
from observability.model.service import Service
from observability.render import slo_rules
from observability.spec.problems import Problem, SpecError

SLO_NAMESPACE_PREFIX = "slos-"
PLATFORM_NAMESPACE = "platform-alerts"
GROUPS_HEADER = "groups:\n"
# libyaml's emitter when PyYAML has it (same output, ~8x faster: YAML was most of a 100-service synth).
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(document: Mapping[str, Any]) -> str:
    """A rules document as the YAML AMP receives (the namespace's Data): one line per expression."""
    return yaml.dump(dict(document), Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=1_000_000)


def size(document: Mapping[str, Any]) -> int:
    """The rules file's size in UTF-8 bytes, as checked against `rule_namespace_bytes`."""
    return len(dump(document).encode())


def rule_count(document: Mapping[str, Any]) -> int:
    return sum(len(group.get("rules", [])) for group in document.get("groups", []))


@dataclass(frozen=True)
class _Block:
    """One service's rule groups: they always share a namespace."""

    service: Service
    groups: list[dict[str, Any]]
    bytes: int  # its share of a rules file (the file is "groups:\n" plus every block)


def rule_files(
    services: Services,
    *,
    runbook_base_url: str,
    quotas: Quotas | None = None,
    managed_collector: bool = False,
) -> dict[str, dict[str, Any]]:
    """Namespace name -> Prometheus rules document (`{"groups": [...]}`), within AMP's quotas; the platform
    alerts for our agents, or for AMP's managed collector (`managed_collector`)."""
    quotas = quotas or load_quotas()
    limit = int(quotas.rule_namespace_bytes.value)
    budget = quotas.namespace_budget_bytes
    problems: list[Problem] = []
    by_team: dict[str, list[_Block]] = {}
    for service in sorted(services.services, key=lambda s: s.name):
        groups = slo_rules.groups(service, services.windows_of(service), runbook_base_url=runbook_base_url)
        if not groups:
            continue
        block = _Block(service, groups, size({"groups": groups}) - len(GROUPS_HEADER))
        if block.bytes + len(GROUPS_HEADER) > limit:
            problems.append(
                Problem(
                    service.slos[0].file,
                    "slos",
                    f"the rules of {service.name}'s {len(service.slos)} SLO(s) render to "
                    f"{block.bytes + len(GROUPS_HEADER):,} bytes, over the {limit:,}-byte limit of one rule "
                    f"groups namespace (observability/spec/amp-quotas.yaml: rule_namespace_bytes): "
                    "split its SLOs over more than one service",
                )
            )
            continue
        by_team.setdefault(service.team, []).append(block)
    files: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}  # a rules file is its header plus its blocks, byte for byte
    for team, blocks in sorted(by_team.items()):
        shards: list[list[dict[str, Any]]] = [[]]
        used = [len(GROUPS_HEADER)]
        for block in blocks:
            if shards[-1] and used[-1] + block.bytes > budget:
                shards.append([])
                used.append(len(GROUPS_HEADER))
            shards[-1].extend(block.groups)
            used[-1] += block.bytes
        for index, groups in enumerate(shards, start=1):
            name = namespace_name(team, index)
            if len(name) > quotas.namespace_name_characters.value:
                problems.append(
                    Problem(
                        # teams.yaml sits next to the service folders.
                        str(Path(blocks[0].service.slos[0].file).parents[1] / spec.TEAMS_FILE),
                        f"teams ({team})",
                        f"name must be short enough to name its rule groups namespace {name!r} in "
                        f"{int(quotas.namespace_name_characters.value)} characters",
                    )
                )
            files[name] = {"groups": groups}
            sizes[name] = used[index - 1]
    files[PLATFORM_NAMESPACE] = platform_alerts.rules_file(
        runbook_base_url=runbook_base_url, managed_collector=managed_collector
    )
    sizes[PLATFORM_NAMESPACE] = size(files[PLATFORM_NAMESPACE])
    problems += _check(files, sizes, quotas)
    if problems:
        raise SpecError(sorted(problems))
    return files


def namespace_name(team: str, shard: int) -> str:
    """`slos-<team>`, then `slos-<team>-2`, ...: fixed for a team's n-th namespace."""
    return f"{SLO_NAMESPACE_PREFIX}{team}" + (f"-{shard}" if shard > 1 else "")


def _check(files: Mapping[str, Mapping[str, Any]], sizes: Mapping[str, int], quotas: Quotas) -> list[Problem]:
    """Every rules file against AMP's per-namespace limits (the renderer's own packing keeps these; this
    is the guard that names the file if it ever does not)."""
    problems = []
    limit = int(quotas.rule_namespace_bytes.value)
    name_limit = int(quotas.namespace_and_group_name_bytes.value)
    for namespace, document in files.items():
        where = f"rules/{namespace}.yaml"
        if (got := sizes[namespace]) > limit:
            problems.append(Problem(where, "", f"must be at most {limit:,} bytes (got {got:,})"))
        for group in document.get("groups", []):
            combined = len(namespace.encode()) + len(str(group.get("name", "")).encode())
            if combined > name_limit:
                problems.append(
                    Problem(
                        where,
                        f"groups[{group.get('name')}]",
                        f"namespace + group name must be at most {name_limit} UTF-8 bytes (got {combined})",
                    )
                )
    return problems
