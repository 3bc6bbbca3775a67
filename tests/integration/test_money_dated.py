"""Issue 12: a call is reserved at the price it will be billed at (the period covering now)."""

from __future__ import annotations

import json
from decimal import Decimal

from money_helpers import greedy, logged_spend, run_concurrently, session_for

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions

D = Decimal


def test_a_dated_period_covering_now_is_what_the_budget_reserves(tmp_path, monkeypatch):
    # a price rise entered ahead of time: the entry's own price is the old one, a period
    # with an `until` in the future holds the price in force now (ten times dearer)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"version": "team-1", "models": {"gpt-5": {
        "input_cost_per_token": 1.25e-6, "output_cost_per_token": 1e-5,
        "history": [{"from": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z",
                     "input_cost_per_token": 1.25e-5, "output_cost_per_token": 1e-4}]}}}))
    monkeypatch.setenv("MIRA_PRICES_FILE", str(prices))
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# Loader\n")
    mt.use_script(mt.Script(responder=greedy()))
    session = session_for(project, "scripted:gpt-5", executor="scripted:gpt-5", budget_usd=0.5)
    ops = run_concurrently(session, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    assert all(op is not None for op in ops)
    spent = logged_spend(session)
    assert spent <= D("0.5"), f"billed ${spent} at the dated price against a $0.50 budget"
    assert session.engine.spend.spent <= D("0.5")
    assert any(op.status == "completed" for op in ops)
