"""inspect_variable and a __repr__ that blocks in C (issue 19 G8): no trace can stop it and
no thread can be killed, so its thread is left running, but such threads cannot pile up
across calls: the same value is not described again while its thread is stuck, and at most
MAX_STUCK threads are ever left behind; once they end, describing works again."""

from __future__ import annotations

import threading

from mira_jupyter.tools import inspect_variable as iv


class BlocksInC:
    """A repr that waits on a lock in C (Lock.acquire), where sys.settrace never fires."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __repr__(self) -> str:
        with self.lock:
            return "finally"


def _inspect_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mira-inspect" and t.is_alive()]


def test_stuck_descriptions_are_bounded_and_end_when_their_c_call_returns():
    held = threading.Lock()
    held.acquire()
    values = [BlocksInC(held) for _ in range(4)]
    before = len(_inspect_threads())
    try:
        results = [iv.describe_bounded(v, seconds=0.2) for v in values]
        again = iv.describe_bounded(values[0], seconds=0.2)
        plain = iv.describe_bounded([1, 2, 3], seconds=0.2)
        left = len(_inspect_threads()) - before
        assert left <= iv.MAX_STUCK, f"{left} inspect threads left running"
        assert [r[1].startswith("did not finish") for r in results[:2]] == [True, True], results
        assert all("still stuck" in r[1] for r in results[2:]), results
        assert "this value is still stuck" in again[1]
        assert plain[1] is not None and "try again once they end" in plain[1]
    finally:
        held.release()
        for thread in _inspect_threads():
            thread.join(10)
    assert iv.stuck_threads() == 0
    info, problem = iv.describe_bounded([1, 2, 3], seconds=5)
    assert problem is None and info["len"] == 3
