"""Problems found in the spec files: each names the file, the field path and the rule it breaks.

Every check collects its problems instead of raising at the first, so one run shows all of them:
`services/payments/slos.yaml: slos[1].objective: must be in (0, 100] (got 120)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str  # relative to the repository root, e.g. services/payments/slos.yaml
    path: str  # the field, e.g. slos[1].objective ('' for the whole file)
    message: str  # the rule and what was found, e.g. "must be in (0, 100] (got 120)"

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


class SpecError(ValueError):
    """The spec files break one or more rules; `problems` lists every one (one line each)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class Collector:
    """Gathers the problems of one file: `at("slos[1].objective", "must be ...")`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def at(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))
