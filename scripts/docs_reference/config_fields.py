"""The configuration's fields, walked from config's frozen dataclasses: every field of `PlatformConfig`,
and of each settings dataclass it holds by default (`monitoring.*`, `workloads.web_resources.*`), with its
type, its default, each environment's value and the comment the dataclass gives it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

from config import ENVIRONMENTS, PlatformConfig
from scripts.docs_reference.markdown import code, page, table


def _comments(cls: type) -> dict[str, str]:
    """Field name -> its comment in the class's source: the one at the end of its line, else the comment
    lines right above it."""
    lines, _ = inspect.getsourcelines(cls)
    source = textwrap.dedent("".join(lines))  # a class defined inside a function is indented
    by_line: dict[int, str] = {}  # line -> comment text
    own_line: set[int] = set()  # lines holding only a comment
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            by_line[token.start[0]] = token.string.lstrip("#").strip()
            if not token.line[: token.start[1]].strip():
                own_line.add(token.start[0])
    comments = {}
    definition = ast.parse(source).body[0]
    assert isinstance(definition, ast.ClassDef), cls
    for node in definition.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        if node.end_lineno in by_line and node.end_lineno not in own_line:
            comments[node.target.id] = by_line[node.end_lineno]
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line in own_line:
            above.insert(0, by_line[line])
            line -= 1
        comments[node.target.id] = " ".join(above)
    return comments


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def _value(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "(required)"
    if isinstance(value, Enum):
        return code(f"{type(value).__name__}.{value.name}")
    if isinstance(value, Mapping):
        value = dict(value)
    return code(repr(value))


def field_rows(cls: type, defaults: Any, configs: Mapping[str, Any], prefix: str = "") -> Iterator[list[str]]:
    """[field, type, default, the value in each of `configs` (instances of `cls` by environment), comment]
    per field of `cls`, and the rows of the dataclass a field holds by default, dotted. `defaults` is the
    instance whose values are the defaults (None: the fields' own defaults)."""
    # A field a base dataclass declares has its comment there (the subclass's own comment wins).
    comments = {
        name: text
        for base in reversed(cls.__mro__)
        if dataclasses.is_dataclass(base)
        for name, text in _comments(base).items()
    }
    for field in dataclasses.fields(cls):
        default = _default(field) if defaults is None else getattr(defaults, field.name)
        values = {env: getattr(config, field.name) for env, config in configs.items()}
        name = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(default) and not isinstance(default, type):
            yield from field_rows(type(default), default, values, f"{name}.")
            continue
        yield [
            code(name),
            code(field.type if isinstance(field.type, str) else inspect.formatannotation(field.type)),
            _value(default),
            *map(_value, values.values()),
            comments.get(field.name, ""),
        ]


def page_text() -> str:
    configs = {name: build() for name, build in ENVIRONMENTS.items()}
    rows = list(field_rows(PlatformConfig, None, configs))
    header = ["field", "type", "default", *configs, "what it is"]
    return page(
        title="Configuration",
        source="config's dataclasses (config/platform.py and the settings it holds) and "
        "config/environments.py",
        body=[
            "Each environment is one `PlatformConfig`; `app.py` picks it by name (`make synth ENV=prod`).",
            table(header, rows),
        ],
    )
