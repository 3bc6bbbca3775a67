"""The one backoff helper of the store (faults.retry) that every retry loop uses."""

from __future__ import annotations

import time

import pytest

from mira_jupyter.store import faults


class Flaky:
    """Fails with the given exceptions in turn, then returns "done"."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_retries_what_is_retryable_until_it_works() -> None:
    work = Flaky(TimeoutError("a"), TimeoutError("b"))
    seen: list[str] = []
    got = faults.retry(
        work, lambda exc, _n: isinstance(exc, TimeoutError), first=0.001, on_retry=lambda e: seen.append(str(e))
    )
    assert got == "done" and work.calls == 3 and seen == ["a", "b"]


def test_a_failure_it_does_not_accept_is_raised_at_once() -> None:
    work = Flaky(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        faults.retry(work, lambda exc, _n: isinstance(exc, TimeoutError), first=0.001)
    assert work.calls == 1


def test_attempts_bound_the_tries_and_the_last_failure_is_raised() -> None:
    work = Flaky(*(TimeoutError(str(i)) for i in range(10)))
    with pytest.raises(TimeoutError, match="^2$"):
        faults.retry(work, lambda _e, _n: True, first=0.001, attempts=3)
    assert work.calls == 3


def test_retryable_sees_the_attempt_number() -> None:
    work = Flaky(*(TimeoutError() for _ in range(10)))
    attempts: list[int] = []

    def retryable(_exc: Exception, attempt: int) -> bool:
        attempts.append(attempt)
        return attempt < 4

    with pytest.raises(TimeoutError):
        faults.retry(work, retryable, first=0.001)
    assert attempts == [1, 2, 3, 4] and work.calls == 4


def test_a_passed_deadline_stops_the_retries() -> None:
    work = Flaky(*(TimeoutError() for _ in range(10)))
    with pytest.raises(TimeoutError):
        faults.retry(work, lambda _e, _n: True, first=0.001, deadline=time.monotonic() - 1)
    assert work.calls == 1
