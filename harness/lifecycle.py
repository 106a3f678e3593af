"""The start/stop life cycle the harness's composite parts share as context managers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self


def stop_all(steps: Iterable[Callable[[], None]]) -> None:
    """Runs every step in order even when one fails (each stops something else), then raises the first
    failure."""
    errors: list[BaseException] = []
    for step in steps:
        try:
            step()
        except Exception as exc:  # keep stopping the others
            errors.append(exc)
    if errors:
        raise errors[0]


class StartStop:
    """`with part:` starts it, and stops what it started even when starting fails part-way; leaving the
    block stops it. Subclasses define `start` and `stop` (which must tolerate a partial start)."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
