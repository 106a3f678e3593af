"""No rule and no dashboard query reads, matches or groups by `__replica__`, the label that tells the
agents of an HA pair apart. AMP keeps one replica's samples and strips the label
(docs.aws.amazon.com/prometheus/latest/userguide/Send-high-availability-data.html), so an expression that
names it would select nothing or split nothing in AMP, and would differ from what the local receiver
(which keeps it) shows. The label names are read from the parsed PromQL, never by text search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest

from observability import conventions as c
from observability.dashboards import all_dashboards
from observability.model.load import load_default
from observability.model.promql import CHILDREN
from observability.render.rules import rule_files
from tests.dashboards.queries import panel_queries, parsable

FILES = rule_files(load_default(), runbook_base_url="https://example.invalid/docs/runbooks")
_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<expr>.*),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")


def label_names(node: Any) -> Iterator[str]:
    """Every label name `node` mentions: matchers, by/without, on/ignoring, group_left/right, and the
    string arguments of functions (label_replace, label_join)."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        yield from (m.name for m in node.matchers.matchers)
        for matchers in getattr(node.matchers, "or_matchers", None) or []:
            yield from (m.name for m in matchers)
    elif kind == "StringLiteral":
        yield node.val
    if kind == "AggregateExpr" and node.modifier is not None:
        yield from node.modifier.labels
    if kind == "BinaryExpr" and node.modifier is not None:
        if node.modifier.matching is not None:
            yield from node.modifier.matching.labels
        yield from node.modifier.group_labels or []
    for attribute in CHILDREN.get(kind, ()):
        child = getattr(node, attribute)
        if child is not None:
            yield from label_names(child)
    if kind == "Call":
        for argument in node.args:
            yield from label_names(argument)


def mentions_replica(expr: str) -> bool:
    return c.REPLICA_LABEL in set(label_names(promql_parser.parse(expr)))


def rule_exprs() -> Iterator[tuple[str, str, str]]:
    for file, document in FILES.items():
        for group in document["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or rule["alert"]
                assert c.REPLICA_LABEL not in rule.get("labels", {}), name
                yield file, name, rule["expr"]


def variable_queries() -> Iterator[tuple[str, str, str]]:
    """Template variables: `label_values(<expr>, <label>)` gives a label name and maybe an expression."""
    for model in all_dashboards():
        for variable in model.get("templating", {}).get("list", []):
            query = variable.get("query")
            if variable.get("type") != "query" or not isinstance(query, str):
                continue
            match = _LABEL_VALUES.match(query)
            assert match, (model["uid"], query)
            assert match["label"] != c.REPLICA_LABEL, (model["uid"], query)
            if match["expr"]:
                yield model["uid"], variable["name"], parsable(match["expr"])


def test_no_rule_mentions_the_replica_label():
    rules = list(rule_exprs())
    assert [(file, name) for file, name, expr in rules if mentions_replica(expr)] == []
    assert len(rules) > 50  # the SLO rules and the platform alerts, not an empty list


def test_no_dashboard_query_mentions_the_replica_label():
    queries = [*panel_queries(), *variable_queries()]
    assert [(uid, title) for uid, title, expr in queries if mentions_replica(expr)] == []
    assert len(queries) > 50


@pytest.mark.parametrize(
    "expr",
    [
        'up{__replica__="0"}',
        "sum by (__replica__) (up)",
        "max without (__replica__) (up)",
        "up / on (__replica__) up",
        "up * on (job) group_left (__replica__) up",
        'label_replace(up, "r", "$1", "__replica__", "(.*)")',
        'count(rate({__name__="up", __replica__!=""}[5m]))',
    ],
)
def test_every_way_of_naming_the_label_is_found(expr):
    """Guards the tests above: each construct that can name a label is seen."""
    assert mentions_replica(expr)
    assert not mentions_replica(expr.replace("__replica__", "pod"))
