"""The invocation's deadline: the Lambda's remaining time less the cleanup reserve, on the injected clock."""

from __future__ import annotations

import pytest
from deadline import Deadline, DeadlineExceededError
from provisioner_fakes import FakeClock, FakeContext


def started(*, timeout: float, reserve: float) -> tuple[FakeClock, Deadline]:
    clock = FakeClock()
    clock.now = 100.0  # the clock's origin is arbitrary: only differences count
    return clock, Deadline.from_context(FakeContext(clock, timeout_seconds=timeout), clock, reserve=reserve)


def test_a_call_is_refused_from_the_deadline_on() -> None:
    clock, deadline = started(timeout=60, reserve=30)  # 30 s of work
    clock.sleep(29.5)
    deadline.check("POST /api/folders")  # half a second left: go ahead
    clock.sleep(0.5)
    with pytest.raises(DeadlineExceededError, match=r"^gave up after 30 s, before POST /api/folders$"):
        deadline.check("POST /api/folders")  # at the deadline itself: nothing left for the call


def test_a_wait_may_end_at_the_deadline_but_not_after() -> None:
    clock, deadline = started(timeout=60, reserve=30)
    deadline.sleep(10, waiting_for="the workspace")
    deadline.sleep(20, waiting_for="the workspace")  # ends exactly at the deadline
    assert clock.sleeps == [10, 20]
    with pytest.raises(DeadlineExceededError, match=r"^gave up after 30 s waiting for the workspace;"):
        deadline.sleep(1, waiting_for="the workspace")
