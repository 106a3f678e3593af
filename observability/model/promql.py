"""Which series a PromQL expression reads, found with a real PromQL parser (promql-parser), never a regex."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import promql_parser

# Child expressions, by node type (promql-parser's Python classes).
CHILDREN = {
    "BinaryExpr": ("lhs", "rhs"),
    "AggregateExpr": ("expr", "param"),
    "ParenExpr": ("expr",),
    "UnaryExpr": ("expr",),
    "SubqueryExpr": ("expr",),
    "MatrixSelector": ("vector_selector",),
}


@dataclass(frozen=True)
class Selector:
    """One vector selector: its metric name and its equality matchers (`job="pods"`)."""

    name: str
    equals: dict[str, str] = field(hash=False)


def selectors(expr: str) -> list[Selector]:
    """Every selector in `expr` (`foo{...}` or `{__name__="foo"}`); a selector without an exact name is an
    error, since it could read anything."""
    found: list[Selector] = []
    _walk(promql_parser.parse(expr), found, expr)
    return found


def is_selector(expr: str, name: str) -> bool:
    """Is `expr` one vector selector of the series `name` (and nothing else), e.g. `foo{code=~"5.."}`?"""
    try:
        node: Any = promql_parser.parse(expr)
    except ValueError:
        return False
    if type(node).__name__ != "VectorSelector":
        return False
    names = [m.value for m in node.matchers.matchers if m.name == "__name__"]
    return node.name == name and not names


def series_names(expr: str) -> set[str]:
    return {selector.name for selector in selectors(expr)}


def _walk(node: Any, found: list[Selector], expr: str) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        equals = {m.name: m.value for m in node.matchers.matchers if m.op == promql_parser.MatchOp.Equal}
        name = node.name or equals.pop("__name__", None)
        if name is None:
            raise ValueError(f"selector without an exact metric name in {expr!r}")
        found.append(Selector(name, equals))
    elif kind == "Call":
        for argument in node.args:
            _walk(argument, found, expr)
    else:
        for attribute in CHILDREN.get(kind, ()):
            child = getattr(node, attribute)
            if child is not None:
                _walk(child, found, expr)
