"""Give up on a log call that does not return in time, without leaving it unaccounted.

A DuckLake catalog that accepts connections but never answers (a stopped postmaster, a
network that drops packets) blocks a query inside DuckDB where no timeout reaches it. The
team budget is checked before every model call, so such a query would hang the cell for
good. :func:`within` runs the work on a worker thread and stops waiting at the deadline; the
thread is left to finish on its own (DuckDB cannot be interrupted there), and what it
produces after the caller gave up is handed to `late` so it can be undone. While one such
thread is still stuck, further work on the same `Stuck` is refused at once instead of
piling up more threads behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from .faults import StoreUnavailable

T = TypeVar("T")


class Stuck:
    """The worker left behind by the last call that missed its deadline, if any."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def busy(self) -> bool:
        """Whether a worker that missed its deadline is still waiting for the log."""
        return self.thread is not None and self.thread.is_alive()


def within(
    seconds: float,
    work: Callable[[], T],
    what: str,
    stuck: Stuck,
    late: Callable[[T], None] | None = None,
) -> T:
    """`work()`'s result, or StoreUnavailable (one line naming `what`) after `seconds`."""
    if stuck.busy():
        raise StoreUnavailable(f"{what} is still waiting for the log to answer an earlier request")
    box: dict[str, object] = {}
    lock = threading.Lock()
    state = {"finished": False, "abandoned": False}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller, or dropped once it gave up
            box["error"] = exc
        with lock:
            state["finished"] = True
            abandoned = state["abandoned"]
        done.set()
        if abandoned and late is not None and "value" in box:
            late(box["value"])  # type: ignore[arg-type]

    worker = threading.Thread(target=run, name="mira-log-deadline", daemon=True)
    worker.start()
    done.wait(seconds)
    with lock:
        if not state["finished"]:
            state["abandoned"] = True
            stuck.thread = worker
            raise StoreUnavailable(f"{what}: the log did not answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
