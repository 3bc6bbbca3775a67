"""The team budget on a local DuckDB file counts a call once when its settlement is not
written at settle time (r17d F2): the file held by another process, the kernel killed.

Interlocked, never timed: the kernel's scripted model waits mid-call in a gate directory,
and the process holding the file holds it until the test says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from mira_jupyter.engine.budget import OperationBudget, SessionSpend
from mira_jupyter.store import analytics
from mira_jupyter.store.session import SessionInfo
from mira_jupyter.store.team_budget import TeamLedger

REPO = Path(__file__).resolve().parents[2]
KERNEL = Path(__file__).with_name("team_budget_child.py")
D = Decimal

HOLDER = r"""
import sys, time, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1])  # DuckDB's write lock on the file, held until told
gate = Path(sys.argv[2])
(gate / "held").touch()
while not (gate / "release").exists():
    time.sleep(0.05)
con.close()
"""


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, f"the process ended before {path.name}"
        assert time.monotonic() < deadline, f"the process never reached {path.name}"
        time.sleep(0.05)


def _spend(db: Path) -> Decimal:
    frame = analytics.query(
        db, "SELECT coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0)::VARCHAR AS s FROM llm_calls"
    )
    return Decimal(frame["s"][0])


def test_a_settlement_the_held_file_refused_is_written_with_the_next_use(tmp_path: Path) -> None:
    db = tmp_path / "team.duckdb"
    ledger = TeamLedger(str(db), D(1), "day", SessionInfo.current(str(tmp_path), "s1"), timeout=1.0)
    session = SessionSpend()
    session.team = ledger
    budget = OperationBudget(None, session)
    reservation = budget.reserve(D("0.05"), D(0), 10, 1, lambda *_: "no room")
    gate = tmp_path / "gate"
    gate.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(gate)], text=True)
    try:
        _wait_for(gate / "held", holder)
        budget.settle(reservation, D("0.01"))  # the file is held: the settlement waits
    finally:
        (gate / "release").touch()
        holder.communicate(timeout=120)
    assert ledger.used() == D("0.01")  # written now, and counted at what the call cost
    assert ledger.unsettled == 0
    frame = analytics.query(db, "SELECT charged::VARCHAR AS c FROM team_reservations")
    assert [D(c) for c in frame["c"]] == [D("0.01")]


def test_a_kernel_killed_mid_call_is_counted_once_on_a_local_file(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("# Loader\nLoads CSV files.\n")
    db = tmp_path / "team.duckdb"
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MIRA_TEST_GATE": str(gate)}
    env.pop("MIRA_DATABASE", None)
    kernel = subprocess.Popen(
        [sys.executable, str(KERNEL), str(project), str(db), "5.00", "1", "gus"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    _wait_for(gate / "in-call", kernel)  # reserved, the model call in flight
    os.kill(kernel.pid, signal.SIGKILL)
    kernel.communicate(timeout=60)
    assert kernel.returncode == -signal.SIGKILL
    # this process opening the log replays the kernel's journal: the cut call, estimated
    ledger = TeamLedger(str(db), D(1), "day", SessionInfo.current(str(tmp_path), "s2"))
    used = ledger.used()
    spend = _spend(db)
    assert spend > 0
    assert used == spend  # the call once, not its cost plus its stale reservation
    frame = analytics.query(db, "SELECT count(*) AS n, count(call_id) AS linked FROM team_reservations")
    assert int(frame["n"][0]) == int(frame["linked"][0]) == 1


def test_a_reservation_of_a_session_that_ended_without_its_call_stops_counting(tmp_path: Path) -> None:
    from mira_jupyter.store.recorder import Recorder

    db = tmp_path / "team.duckdb"
    gone = SessionInfo.current(str(tmp_path), "s-gone")
    TeamLedger(str(db), D(1), "day", gone).reserve(D("0.05"))  # its call never reached the log
    live = TeamLedger(str(db), D(1), "day", SessionInfo.current(str(tmp_path), "s-live"))
    live.reserve(D("0.02"))
    assert live.used() == D("0.07")  # both in flight
    Recorder(str(db), gone).close()  # the log says that session ended
    assert live.used() == D("0.02")  # the live session's reservation still counts


def test_an_unsettled_reservation_older_than_the_bound_stops_counting(tmp_path: Path, monkeypatch) -> None:
    from datetime import timedelta

    from mira_jupyter.store import team_budget

    db = tmp_path / "team.duckdb"
    ledger = TeamLedger(str(db), D(1), "day", SessionInfo.current(str(tmp_path), "s1"))
    ticket, _ = ledger.reserve(D("0.05"))
    settled, _ = ledger.reserve(D("0.03"))
    ledger.settle(settled, D("0.01"), None)
    assert ledger.used() == D("0.06")
    monkeypatch.setattr(team_budget, "EXPIRES_AFTER", timedelta(0), raising=False)
    assert ledger.used() == D("0.01")  # the settled one keeps its charge
