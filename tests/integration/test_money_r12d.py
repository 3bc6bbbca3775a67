"""Issue 12, review r12d F1, F3, F4, F6-F9: price files that change, one budget per kernel,
honest totals, one price per instant, reasoning allowances behind OpenRouter, status with
a broken price file; end to end through the scripted model into a real DuckDB file."""

from __future__ import annotations

import io
import json
import math
import os
from contextlib import redirect_stdout
from datetime import datetime
from decimal import Decimal

import pytest
from IPython.core.interactiveshell import InteractiveShell
from money_helpers import greedy, logged_spend, session_for

import mira_jupyter.testing as mt
from mira_jupyter.core.events import Usage
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.pricing import cost_of, load_prices
from mira_jupyter.store import analytics

D = Decimal
PRICED = {"input_cost_per_token": "1e-6", "output_cost_per_token": "2e-6"}


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    (tmp_path / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return tmp_path


def _write_prices(path, models: dict) -> None:
    path.write_text(json.dumps({"version": "team", "models": models}))


# -- F1: the refusal's own remedy works in the running session ---------------------------------


def test_pricing_a_refused_model_in_the_same_price_file_takes_effect_at_the_next_operation(project):
    prices = project / "prices.json"
    _write_prices(prices, {"other-model": PRICED})
    mt.use_script(mt.Script({"mystery-model": [{"text": "ok", "repeat": True}]}))
    session = session_for(project, "scripted:mystery-model", budget_usd=1.0, prices_file=str(prices))
    refused = session.run("what is this?", RunOptions(mode="simple"))
    assert refused.status == "failed" and "has no price" in refused.error
    before = session.engine.prices.version
    _write_prices(prices, {"other-model": PRICED, "mystery-model": PRICED})
    os.utime(prices, ns=(os.stat(prices).st_atime_ns, os.stat(prices).st_mtime_ns + 1_000_000))
    op = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert op.status == "completed" and op.cost.priced and op.cost.total_usd > 0
    assert session.engine.prices.version != before, "the table version names the new content"


def test_a_raised_price_in_the_file_is_what_the_next_operation_pays(project):
    prices = project / "prices.json"
    _write_prices(prices, {"gpt-5": PRICED})
    usage = {"prompt_tokens": 10_000, "completion_tokens": 1_000}
    mt.use_script(mt.Script({"gpt-5": [{"text": "ok", "usage": usage, "repeat": True}]}))
    session = session_for(project, "scripted:gpt-5", prices_file=str(prices))
    first = session.run("what is this?", RunOptions(mode="simple"))
    _write_prices(prices, {"gpt-5": {"input_cost_per_token": "1e-5", "output_cost_per_token": "2e-5"}})
    second = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert first.cost.total_usd == 10_000 * D("1e-6") + 1_000 * D("2e-6")
    assert second.cost.total_usd == 10_000 * D("1e-5") + 1_000 * D("2e-5")


def test_mira_prices_file_set_after_the_first_operation_takes_effect(project, monkeypatch):
    prices = project / "prices.json"
    _write_prices(prices, {"mystery-model": PRICED})
    mt.use_script(mt.Script({"mystery-model": [{"text": "ok", "repeat": True}]}))
    session = session_for(project, "scripted:mystery-model", budget_usd=1.0)
    assert session.run("what is this?", RunOptions(mode="simple")).status == "failed"
    monkeypatch.setenv("MIRA_PRICES_FILE", str(prices))  # what %env MIRA_PRICES_FILE=... does
    op = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert op.status == "completed" and op.cost.priced


def test_a_price_file_broken_after_the_first_operation_refuses_in_one_line(project):
    prices = project / "prices.json"
    _write_prices(prices, {"gpt-5": PRICED})
    mt.use_script(mt.Script({"gpt-5": [{"text": "ok", "repeat": True}]}))
    session = session_for(project, "scripted:gpt-5", prices_file=str(prices))
    assert session.run("what is this?", RunOptions(mode="simple")).status == "completed"
    prices.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON") as info:
        session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert "\n" not in str(info.value) and str(prices) in str(info.value)


# -- F8: %mira status shows a broken price file as one of its lines ----------------------------


def test_status_shows_a_broken_price_file_as_one_line_among_the_rest(project, capsys):
    prices = project / "prices.json"
    prices.write_text("{not json")
    session = session_for(project, "scripted:gpt-5", prices_file=str(prices))
    from mira_jupyter.notebook.subcommands import status

    class _Magics:
        pass

    magics = _Magics()
    magics.session = session
    status(magics, [])
    session.close()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("orchestrator model") for line in lines)
    (line,) = [line for line in lines if line.startswith("prices")]
    assert "unusable" in line and "not valid JSON" in line and str(prices) in line
    assert any(line.startswith("API keys") for line in lines), "the lines after it are there too"


# -- F3: %reload_ext in the same kernel does not hand out the budget again ---------------------


def _load(ip, budget: float) -> None:
    ip.run_line_magic("load_ext", "mira_jupyter")
    for line in ('Mira.orchestrator_model = "scripted:gpt-5"', 'Mira.executor_model = "scripted:deepseek-chat"',
                 'Mira.view = "text"', f"Mira.budget_usd = {budget}"):
        ip.run_line_magic("config", line)


def test_reloading_the_extension_keeps_the_kernels_budget(project, monkeypatch):
    monkeypatch.chdir(project)
    mt.use_script(mt.Script(responder=greedy()))
    ip = InteractiveShell.instance()
    budget = D("0.06")
    spent_by_load = []
    try:
        for _ in range(3):
            _load(ip, float(budget))
            with redirect_stdout(io.StringIO()):
                for _ in range(3):
                    ip.run_cell("%%mira --mode simple -r low --new\nquestion?")
            from mira_jupyter import current_session

            session = current_session()
            spent_by_load.append(session.engine.spend.spent)
            ip.run_line_magic("unload_ext", "mira_jupyter")
    finally:
        InteractiveShell.clear_instance()
    assert spent_by_load[0] > 0
    assert spent_by_load[1] == spent_by_load[2] == spent_by_load[0], "a reload starts from what was spent"
    assert logged_spend(session) <= budget, "one kernel, one Mira.budget_usd"


def test_another_kernels_spending_is_not_this_kernels(project):
    mt.use_script(mt.Script(responder=greedy()))
    first = session_for(project, "scripted:gpt-5", budget_usd=0.06)
    first.run("question?", RunOptions(mode="simple", reasoning="low"))
    first.close()
    assert logged_spend(first) > 0
    # a script's Session is not the kernel's: its budget is its own
    second = session_for(project, "scripted:gpt-5", budget_usd=0.06)
    assert second.engine.spend.spent == 0
    second.close()


# -- F4: the totals' upper bound is never below their lower bound ------------------------------


def test_costs_totals_upper_bound_counts_the_exact_groups_too(project):
    mt.use_script(mt.Script({
        "gpt-5": [{"text": "exact", "usage": {"prompt_tokens": 100_000, "completion_tokens": 1_000}}],
        "deepseek-chat": [{"text": "cut before the end " * 20, "fault": "cut", "after_chunks": 4, "repeat": True}],
    }))
    session = session_for(project, "scripted:gpt-5")
    session.run("what is this?", RunOptions(mode="simple"))
    session.config.orchestrator_model = "scripted:deepseek-chat"
    session.run("and this?", RunOptions(mode="simple"))
    session.close()
    frame = analytics.costs(session.database, by="model")
    totals = frame.attrs["totals"]
    assert frame["cost_upper_usd"].notna().sum() == 1, "one bounded group, one exact"
    assert totals["cost_upper_usd"] >= totals["cost_usd"]
    exact = frame[frame["cost_upper_usd"].isna()]["cost_usd"].sum()
    bounded = frame["cost_upper_usd"].sum()
    assert float(totals["cost_upper_usd"]) == pytest.approx(float(exact) + float(bounded))


# -- unpriced groups: unknown components, not $0 parts ------------------------------------------


def test_an_unpriced_groups_cost_components_are_unknown_not_zero(project):
    mt.use_script(mt.Script({"mystery-model": ["ok"]}))
    session = session_for(project, "scripted:mystery-model")
    session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    (row,) = analytics.costs(session.database, by="model").to_dict("records")
    assert row["cost"] == "unpriced"
    for column in ("cost_usd", "cost_input_usd", "cost_cached_input_usd", "cost_output_usd"):
        assert row[column] is None or math.isnan(row[column]), column


# -- F6: overlapping history periods are refused at load ---------------------------------------


def test_overlapping_history_periods_are_refused_in_one_line_naming_the_entry(tmp_path):
    path = tmp_path / "overlap.json"
    path.write_text(json.dumps({"models": {"x-model": {**PRICED, "history": [
        {"from": "2025-01-01T00:00:00Z", "until": "2025-06-01T00:00:00Z", **PRICED},
        {"from": "2025-03-01T00:00:00Z", "until": "2025-09-01T00:00:00Z",
         "input_cost_per_token": "9e-6", "output_cost_per_token": "9e-6"},
    ]}}}))
    with pytest.raises(ValueError, match="overlap") as info:
        load_prices(path)
    message = str(info.value)
    assert "\n" not in message and "'x-model'" in message and str(path) in message
    # adjacent periods (one ends where the next begins) are fine, in any order
    path.write_text(json.dumps({"models": {"x-model": {**PRICED, "history": [
        {"from": "2025-06-01T00:00:00Z", "until": "2025-09-01T00:00:00Z", **PRICED},
        {"until": "2025-06-01T00:00:00Z", **PRICED},
    ]}}}))
    assert load_prices(path).is_priced("x-model")


# -- F9: a naive instant is UTC ------------------------------------------------------------------


def test_cost_of_reads_a_naive_instant_as_utc():
    usage = Usage(input_tokens=1_000_000)
    naive = cost_of(usage, "deepseek:deepseek-chat", at=datetime(2025, 3, 1, 17, 0))
    aware = cost_of(usage, "deepseek:deepseek-chat", at=datetime.fromisoformat("2025-03-01T17:00:00+00:00"))
    assert naive.total_usd == aware.total_usd == D("0.135")  # the off-peak rate at 17:00 UTC


# -- F7: reasoning models behind OpenRouter get a reasoning allowance ------------------------------


@pytest.mark.parametrize(
    "model_id",
    ["openrouter:google/gemini-2.5-pro", "openrouter:deepseek/deepseek-r1", "openrouter:google/gemini-2.5-flash",
     "openrouter:anthropic/claude-3.7-sonnet:thinking", "openrouter:qwen/qwq-32b"],
)
def test_reasoning_models_behind_openrouter_get_an_allowance_by_effort(model_id):
    from mira_jupyter.engine.output_cap import output_allowance
    from mira_jupyter.llm.capabilities import capabilities_for, output_token_cap
    from mira_jupyter.llm.providers import build_chat_model

    model = build_chat_model(model_id, settings={})
    assert capabilities_for(model_id).spends_output_on_reasoning
    assert output_allowance(model, "low") < output_allowance(model, "high")
    assert output_token_cap(model_id, "plan", reasoning_effort="high") > 2_048


def test_models_that_do_not_think_unless_asked_get_no_allowance():
    from mira_jupyter.llm.capabilities import capabilities_for

    for model_id in ("openrouter:anthropic/claude-sonnet-4.5", "openrouter:google/gemini-2.5-flash-lite",
                     "openrouter:meta-llama/llama-3.3-70b-instruct"):
        assert not capabilities_for(model_id).spends_output_on_reasoning, model_id
