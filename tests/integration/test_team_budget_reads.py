"""The team budget reads the shared log once per reservation, not at every turn of a wait.

On a lake each read is catalog round trips (seconds under load); a call waiting for its
model's first call used to read the team's spend four times a second while it waited.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

from mira_jupyter.engine.budget import OperationBudget, Reservation, SessionSpend
from mira_jupyter.store.session import SessionInfo
from mira_jupyter.store.team_budget import TeamLedger

D = Decimal


class CountingLedger(TeamLedger):
    """A real ledger on a DuckDB file that counts its reads of the team's spend."""

    reads = 0

    def used(self) -> Decimal:
        self.reads += 1
        return super().used()


def _describe(*_args: object) -> str:
    return "no room"


def test_a_call_waiting_for_its_turn_reads_the_team_spend_once(tmp_path: Path) -> None:
    ledger = CountingLedger(
        str(tmp_path / "team.duckdb"), D(1), "day", SessionInfo.current(str(tmp_path), "s1")
    )
    session = SessionSpend()
    session.team = ledger
    first_budget = OperationBudget(None, session)
    # the model's first call: the next one waits for its turn
    first = first_budget.reserve(D("0.01"), D(0), 10, 1, _describe, model_id="m")
    assert first.team_ticket is not None and "m" in session._probing
    before = ledger.reads
    got: list[Reservation] = []
    worker = threading.Thread(
        target=lambda: got.append(
            OperationBudget(None, session).reserve(D("0.01"), D(0), 10, 1, _describe, model_id="m")
        )
    )
    worker.start()
    time.sleep(1.0)  # it waits (four turns of 0.25 s), not a timing assertion
    assert worker.is_alive() and not got
    first_budget.settle(first, D("0.004"))
    worker.join(60)
    assert got and got[0].team_ticket is not None
    assert ledger.reads - before == 1
    assert ledger.used() == D("0.014")  # the settled call and the one in flight
