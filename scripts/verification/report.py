"""One line per check: PASS or FAIL, what was checked, and what was seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    check: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.check}: {self.detail}"


class Clock(Protocol):
    """Time as the checks see it: the tests pass a fake that advances on `sleep`."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Deadline:
    """Every wait of one run shares this deadline: `--timeout` bounds the whole verification."""

    clock: Clock
    at: float
    interval: float

    def poll(self, attempt: Callable[[], T], done: Callable[[T], bool]) -> T:
        """Calls `attempt` until `done` says so or the deadline would pass; returns the last result."""
        while True:
            result = attempt()
            if done(result) or self.clock.monotonic() + self.interval > self.at:
                return result
            self.clock.sleep(self.interval)
