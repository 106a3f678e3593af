"""Time as the handlers see it (the tests inject a clock that moves only when slept) and the deadline every
wait and Grafana call of one invocation shares: the function's remaining time, less what cleanup needs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

# Without a Lambda context (a local run): as much as the provisioner's timeout.
DEFAULT_BUDGET_SECONDS = 900.0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class DeadlineExceededError(Exception):
    """The invocation would outlive its Lambda timeout: stop, clean up, and say what was still pending."""


@dataclass(frozen=True)
class Deadline:
    clock: Clock
    at: float  # on clock.monotonic()
    started: float

    @classmethod
    def from_context(cls, context: Any, clock: Clock, *, reserve: float) -> Deadline:
        """`reserve` seconds stay for deleting the token and service account after the deadline."""
        budget = (
            context.get_remaining_time_in_millis() / 1000.0 if context is not None else DEFAULT_BUDGET_SECONDS
        )
        now = clock.monotonic()
        return cls(clock=clock, at=now + budget - reserve, started=now)

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.started

    def check(self, pending: str) -> None:
        if self.clock.monotonic() >= self.at:
            raise DeadlineExceededError(f"gave up after {self.elapsed():.0f} s, before {pending}")

    def sleep(self, seconds: float, *, waiting_for: str) -> None:
        """Sleeps, or raises DeadlineExceededError when the sleep would pass the deadline."""
        if self.clock.monotonic() + seconds > self.at:
            raise DeadlineExceededError(
                f"gave up after {self.elapsed():.0f} s waiting for {waiting_for}; the function's timeout "
                "bounds the wait: deploy again once the workspace is ACTIVE"
            )
        self.clock.sleep(seconds)
