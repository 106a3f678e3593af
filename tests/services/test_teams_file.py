"""services/teams.yaml (`version: teams/v1`, a list of teams, each a DNS-label name and a description): every
broken entry is one problem naming the file, the entry and the rule; the valid entries are the teams, in the
file's order. The expected lines are literals."""

from __future__ import annotations

from typing import Any

import pytest

from observability.model.teams import Team, parse_teams

FILE = "services/teams.yaml"


def lines(document: Any) -> list[str]:
    _, collected = parse_teams(document, FILE)
    return [str(problem) for problem in collected.problems]


def test_the_teams_are_read_in_the_files_order_with_their_descriptions():
    document = {
        "version": "teams/v1",
        "teams": [
            {"name": "orders", "description": "Owns the orders API."},
            {"name": "a1", "description": ""},
            {"name": "warehouse"},
        ],
    }
    teams, collected = parse_teams(document, FILE)
    assert collected.problems == []
    assert teams == (Team("orders", "Owns the orders API."), Team("a1", ""), Team("warehouse", ""))


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (
            {"version": "teams/v2", "teams": []},
            "services/teams.yaml: version: must be 'teams/v1' (got 'teams/v2')",
        ),
        ({"teams": [{"name": "orders"}]}, "services/teams.yaml: version: must be 'teams/v1' (got None)"),
        (["orders"], "services/teams.yaml: version: must be 'teams/v1' (got ['orders'])"),
        (None, "services/teams.yaml: version: must be 'teams/v1' (got None)"),
        ({"version": "teams/v1"}, "services/teams.yaml: teams: must list at least one team"),
        ({"version": "teams/v1", "teams": []}, "services/teams.yaml: teams: must list at least one team"),
        (
            {"version": "teams/v1", "teams": {"name": "orders"}},
            "services/teams.yaml: teams: must list at least one team",
        ),
    ],
)
def test_a_file_without_its_version_or_teams_is_one_problem(document, line):
    teams, collected = parse_teams(document, FILE)
    assert teams == ()
    assert [str(problem) for problem in collected.problems] == [line]


def test_every_broken_entry_is_reported_and_the_others_are_kept():
    document = {
        "version": "teams/v1",
        "teams": [
            {"name": "orders", "description": "Orders."},
            {"name": "Orders"},
            "payments",
            {"description": "No name."},
            {"name": "orders", "description": "Again."},
            {"name": "billing", "description": ["not", "text"]},
            {"name": "-edge"},
            {"name": "x" * 64},
            {"name": "warehouse", "description": "Stock."},
        ],
    }
    teams, collected = parse_teams(document, FILE)
    assert teams == (Team("orders", "Orders."), Team("warehouse", "Stock."))
    assert [str(problem) for problem in collected.problems] == [
        "services/teams.yaml: teams[1].name: must be lower-case letters, digits and '-' (got 'Orders')",
        "services/teams.yaml: teams[2].name: must be lower-case letters, digits and '-' (got None)",
        "services/teams.yaml: teams[3].name: must be lower-case letters, digits and '-' (got None)",
        "services/teams.yaml: teams[4].name: must be unique (got 'orders' twice)",
        "services/teams.yaml: teams[5].description: must be text (got ['not', 'text'])",
        "services/teams.yaml: teams[6].name: must be lower-case letters, digits and '-' (got '-edge')",
        "services/teams.yaml: teams[7].name: must be lower-case letters, digits and '-' (got '"
        + "x" * 64
        + "')",
    ]


def test_a_63_character_team_name_is_a_dns_label():
    teams, collected = parse_teams({"version": "teams/v1", "teams": [{"name": "x" * 63}]}, FILE)
    assert collected.problems == []
    assert teams == (Team("x" * 63, ""),)
