"""The start/stop life cycle the harness's composite parts share as context managers."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
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


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def unwind_on_sigterm() -> None:
    """SIGTERM (and SIGINT, whatever this process inherited) raise KeyboardInterrupt in the main thread, so
    that a script killed by `kill` or a CI timeout leaves its `with` blocks and stops what they started
    (Python's default for SIGTERM ends the process at once and leaves its child processes running)."""
    signal.signal(signal.SIGTERM, _interrupt)
    # A parent that ignored SIGINT when it started us (a pytest-xdist worker does) leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)


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
