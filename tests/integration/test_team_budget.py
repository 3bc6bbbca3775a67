"""The team budget: one cap over several kernels (separate processes) sharing one log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mira_jupyter.store import analytics
from mira_jupyter.store.team_budget import period_start

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("team_budget_child.py")


def _spend(db: Path) -> Decimal:
    frame = analytics.query(
        db, "SELECT coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0)::VARCHAR AS s FROM llm_calls"
    )
    return Decimal(frame["s"][0])


def test_kernels_in_separate_processes_never_spend_more_than_the_team_cap_together(tmp_path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("# Loader\nLoads CSV files.\n")
    db = tmp_path / "team.duckdb"
    # one greedy gpt-5 call reserves ~$0.04-0.05 (its whole output allowance): a $0.20 team
    # cap pays for a few of the twelve operations three kernels try, never for all of them
    cap = "0.20"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kernels = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(project), str(db), cap, "4", user],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for user in ("ann", "bob", "cho")
    ]  # fmt: skip
    results = []
    for kernel in kernels:
        out, err = kernel.communicate(timeout=600)
        assert kernel.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    statuses = [s for r in results for s in r["statuses"]]
    assert "completed" in statuses and "budget_exceeded" in statuses, results
    refusals = [e for r in results for e in r["errors"]]
    assert any("team budget $0.2000 would be exceeded" in e for e in refusals), refusals
    spent = _spend(db)
    assert 0 < spent <= Decimal(cap)
    # every call that ran is in the ledger, settled to what the log says it cost
    ledger = analytics.query(
        db,
        "SELECT count(*) AS n, count(*) FILTER (WHERE settled_at IS NULL) AS open, "
        "coalesce(sum(charged), 0)::VARCHAR AS charged FROM team_reservations",
    )
    assert int(ledger["open"][0]) == 0
    assert Decimal(ledger["charged"][0]) == spent
    assert int(ledger["n"][0]) == sum(r["requests"] for r in results)
    # who spent it
    by_user = analytics.costs(db, by="user")
    assert set(by_user["user_name"]) <= {"ann", "bob", "cho"}


def test_the_period_starts_at_utc_midnight_or_the_first_of_the_month() -> None:
    now = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert period_start("day", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert period_start("month", datetime(2026, 12, 17, 3, tzinfo=UTC)) == datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="day, month"):
        period_start("week", now)  # type: ignore[arg-type]


def test_a_bad_team_budget_setting_is_one_clear_line() -> None:
    from traitlets import TraitError

    from mira_jupyter.config import Mira

    config = Mira()
    with pytest.raises(TraitError, match="day or month"):
        config.team_budget_period = "fortnight"
    with pytest.raises(TraitError):
        config.team_budget_usd = -1.0
