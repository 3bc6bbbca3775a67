"""A log request that does not return in time is given up on, and undone when it ends (r17d F7)."""

from __future__ import annotations

import threading

import pytest

from mira_jupyter.store.deadline import Stuck, within
from mira_jupyter.store.faults import StoreUnavailable


def test_a_request_past_its_deadline_is_refused_and_its_late_result_undone() -> None:
    release, undone = threading.Event(), threading.Event()
    late: list[str] = []
    stuck = Stuck()

    def hung() -> str:
        release.wait(60)  # a catalog that does not answer until the test lets it
        return "ticket-1"

    def undo(value: str) -> None:
        late.append(value)
        undone.set()

    with pytest.raises(StoreUnavailable, match=r"^team budget: the log did not answer within 0\.1 s$"):
        within(0.1, hung, "team budget", stuck, undo)
    # while that request is stuck, the next is refused at once, not queued behind it
    with pytest.raises(StoreUnavailable, match="still waiting for the log"):
        within(60, lambda: "never run", "team budget", stuck)
    release.set()
    assert undone.wait(60) and late == ["ticket-1"]
    stuck.thread.join(60)  # type: ignore[union-attr]
    assert within(60, lambda: "answered", "team budget", stuck) == "answered"


def test_a_request_in_time_returns_or_raises_its_own_error() -> None:
    stuck = Stuck()
    assert within(60, lambda: 42, "x", stuck) == 42

    def broken() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        within(60, broken, "x", stuck)
