"""The teams alerts are routed to, read from `services/teams.yaml`.

version: teams/v1
teams:
  - name: payments
    description: Owns the payments service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observability.model.service import SERVICE_NAME
from observability.spec.problems import Collector

VERSION = "teams/v1"


@dataclass(frozen=True)
class Team:
    name: str
    description: str


def parse_teams(document: Any, file: str) -> tuple[tuple[Team, ...], Collector]:
    problems = Collector(file)
    if not isinstance(document, dict) or document.get("version") != VERSION:
        got = document.get("version") if isinstance(document, dict) else document
        problems.at("version", f"must be {VERSION!r} (got {got!r})")
        return (), problems
    entries = document.get("teams")
    if not isinstance(entries, list) or not entries:
        problems.at("teams", "must list at least one team")
        return (), problems
    teams: list[Team] = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        description = entry.get("description", "") if isinstance(entry, dict) else ""
        if not isinstance(name, str) or not SERVICE_NAME.match(name):
            problems.at(f"teams[{index}].name", f"must be lower-case letters, digits and '-' (got {name!r})")
        elif any(team.name == name for team in teams):
            problems.at(f"teams[{index}].name", f"must be unique (got {name!r} twice)")
        elif not isinstance(description, str):
            problems.at(f"teams[{index}].description", f"must be text (got {description!r})")
        else:
            teams.append(Team(name, description))
    return tuple(teams), problems
