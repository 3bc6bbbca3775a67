"""Issue 12 end to end: the scripted model over the real openai SDK, into a real DuckDB file.

No silent $0, budgets as reservations (concurrent operations, plan-only + run), honest
bounds for cancelled and cut calls, raw usage and provider costs stored, repriceable history.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, mira_shell, plan_turn
from money_helpers import (
    greedy,
    logged_calls,
    logged_spend,
    run_concurrently,
    sent_limit,
    session_for,
)

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store import analytics
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.text import render_text

D = Decimal


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    (tmp_path / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return tmp_path


@pytest.fixture()
def shell(project, monkeypatch):
    monkeypatch.chdir(project)
    yield from mira_shell()


# -- 1. no silent $0 ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["--budget", "Mira.budget_usd"])
def test_an_unpriced_model_under_any_budget_is_refused_before_the_first_call(project, where):
    script = mt.use_script(mt.Script({"mystery-model": ["never sent"]}))
    traits = {"budget_usd": 5.0} if where == "Mira.budget_usd" else {}
    session = session_for(project, "scripted:mystery-model", **traits)
    options = RunOptions(budget_usd=D("5")) if where == "--budget" else None
    op = session.run("what is this?", options)
    session.close()
    assert op.status == "failed"
    assert script.requests == [], "nothing was sent"
    assert "\n" not in op.error
    assert "scripted:mystery-model has no price" in op.error
    assert "MIRA_PRICES_FILE" in op.error and "Mira.prices_file" in op.error
    (row,) = analytics.history(session.database).to_dict("records")
    assert row["status"] == "failed" and row["llm_calls"] == 0


def test_the_audits_gpt5_pro_case_now_holds_its_budget(project):
    # before: scripted:gpt-5-pro was unpriced, so --budget 0.001 let $7.50 through
    script = mt.use_script(mt.Script(responder=greedy()))
    session = session_for(project, "scripted:gpt-5-pro")
    op = session.run("what is this?", RunOptions(budget_usd=D("0.001")))
    session.close()
    assert op.status == "budget_exceeded" and "budget $0.0010 would be exceeded" in op.error
    assert script.requests == []
    assert logged_spend(session) == 0


def test_allow_unpriced_runs_with_a_visible_warning_and_shows_unpriced_never_zero(project):
    mt.use_script(mt.Script({"mystery-model": ["an answer"]}))
    session = session_for(project, "scripted:mystery-model", allow_unpriced=True, budget_usd=1.0)
    events = []
    op = session.run("what is this?", view=events.append)
    session.close()
    assert op.status == "completed"
    warnings = [e.message for e in events if e.type == "Notice" and e.level == "warning"]
    assert any("scripted:mystery-model has no price" in w and "NOT counted" in w for w in warnings)
    assert "unpriced" in op.summary_line() and "$0.00" not in op.summary_line()
    state = OperationState()
    for event in events:
        state.apply(event)
    text = render_text(state)
    assert "cost: unpriced" in text and "$0.0000" not in text
    frame = analytics.costs(session.database, by="model")
    (row,) = frame.to_dict("records")
    assert row["cost"] == "unpriced" and row["unpriced_calls"] == 1
    (call_row,) = logged_calls(session)
    assert call_row["priced"] is False or call_row["priced"] == 0
    assert call_row["cost_total_usd"] is None or call_row["cost_total_usd"] != call_row["cost_total_usd"]


def test_status_lists_the_configured_models_that_are_unpriced(shell, capsys):
    shell.run_line_magic("config", 'Mira.executor_model = "ollama:qwen2.5-coder:14b"')
    shell.run_line_magic("mira", "status")
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("unpriced models")]
    assert "ollama:qwen2.5-coder:14b" in line and f"scripted:{ORCH}" not in line
    assert "MIRA_PRICES_FILE" in line


def test_budgets_beyond_what_the_log_can_store_are_refused_when_parsed(shell):
    from mira_jupyter.errors import MiraUsageError

    with pytest.raises(MiraUsageError, match=r"--budget must be at most \$1,000,000"):
        shell.run_cell_magic("mira", "--budget 1e12", "hi")
    from traitlets import TraitError

    from mira_jupyter.config import Mira

    with pytest.raises(TraitError, match="at most"):
        Mira().budget_usd = 5e9


# -- 2. budgets are reservations -----------------------------------------------------------


def test_four_concurrent_operations_on_a_greedy_model_stay_within_the_session_budget(project):
    script = mt.use_script(mt.Script(responder=greedy()))
    budget = D("0.2")  # four greedy calls of up to 8,192 output tokens ($0.08 each) do not fit
    session = session_for(project, f"scripted:{ORCH}", budget_usd=float(budget))
    ops = run_concurrently(session, [f"question {i}?" for i in range(4)], RunOptions(reasoning="low"))
    session.close()
    assert all(op is not None for op in ops)
    assert all(op.status in ("completed", "budget_exceeded") for op in ops)
    assert any(op.status == "budget_exceeded" for op in ops), "the greedy model must hit the cap"
    spent = logged_spend(session)
    assert spent <= budget, f"spent {spent} of {budget}"
    assert sum(op.cost.most_usd for op in ops) <= budget
    # every call was sent with the reservation's max_tokens and used all of it
    assert all(isinstance(sent_limit(r), int) for r in script.requests)


def test_plan_only_and_its_run_share_one_budget(project):
    mt.use_script(mt.Script(responder=greedy()))
    budget = D("0.2")
    session = session_for(project, f"scripted:{ORCH}")
    options = RunOptions(mode="planned", plan_only=True, reasoning="low", budget_usd=budget)
    planned = session.run("refactor the loader", options)
    assert planned.status == "planned" and planned.cost.total_usd > 0
    ran = session.resume(planned.id)
    session.close()
    assert ran.status in ("completed", "budget_exceeded")
    assert ran.cost.most_usd <= budget, "plan + run spent more than the plan's budget"
    assert logged_spend(session) <= budget


# -- 3. honest bounds for what the client cannot see -----------------------------------


def test_a_cancelled_reasoning_call_is_bounded_and_the_budget_charges_the_upper_bound(project):
    turn = {"text": "thinking out loud " * 40, "fault": "stall", "stall_seconds": 30, "after_chunks": 3}
    script = mt.Script({ORCH: [turn]})
    h = Harness(project, script, budget_usd=D("1"))
    cancel = CancelToken()
    threading.Timer(0.5, cancel.cancel).start()
    op = h.engine.run("what is this?", RunOptions(reasoning="high"), cancel=cancel)
    assert op.status == "cancelled"
    (finished,) = h.of("LLMCallFinished")
    limit = sent_limit(script.requests[0])
    assert finished.usage.output_tokens_upper == limit
    assert finished.cost.upper_usd is not None and finished.cost.upper_usd > finished.cost.total_usd
    # input + max_tokens at gpt-5 prices is the most it can have cost (the reservation's input margin on top)
    assert finished.cost.upper_usd >= D(finished.usage.input_tokens) * D("1.25e-6") + limit * D("1e-5")
    assert h.engine.spend.spent == finished.cost.upper_usd, "the budget is charged the upper bound"
    assert op.cost.bounded and "at most" in op.summary_line()


def test_a_call_cut_after_sending_but_before_any_token_records_its_input_as_estimated(project):
    # every attempt (the client retries a drop before the first byte) is cut the same way
    script = mt.Script({ORCH: [{"text": "never arrives", "fault": "cut", "after_chunks": 0, "repeat": True}]})
    h = Harness(project, script)
    op = h.engine.run("what is this?", RunOptions(mode="simple"))
    assert op.status == "failed"
    finished = h.of("LLMCallFinished")[0]
    assert finished.status == "error"
    assert finished.usage.source == "estimated" and finished.usage.input_tokens > 0
    assert finished.usage.output_tokens_upper is not None and finished.cost.bounded


def test_a_call_refused_with_http_400_counts_as_zero_not_estimated(project):
    script = mt.Script(
        {ORCH: [{"status": 400, "error_message": "bad request"}, "the fallback answer"], EXEC: ["x"]}
    )
    h = Harness(project, script)
    op = h.engine.run("what is this?", RunOptions(mode="simple"))
    failed = [e for e in h.of("LLMCallFinished") if e.status == "error"]
    assert failed and failed[0].usage.input_tokens == 0 and failed[0].usage.source == "reported"
    assert not failed[0].cost.bounded and failed[0].cost.total_usd == 0
    assert op.usage.source == "reported", "one refused request no longer makes the total 'estimated'"


def test_a_stream_without_a_usage_report_is_bounded(project):
    script = mt.Script({ORCH: [{"text": "an answer", "usage_style": "none"}]})
    h = Harness(project, script)
    op = h.engine.run("what is this?", RunOptions(mode="simple"))
    assert op.status == "completed"
    (finished,) = h.of("LLMCallFinished")
    assert finished.usage.source == "estimated" and finished.cost.bounded


# -- 4. repriceable history ------------------------------------------------------------------


def test_raw_usage_and_openrouter_cost_are_stored_and_the_provider_cost_is_the_truth(project):
    usage = {"prompt_tokens": 10_000, "completion_tokens": 100, "total_tokens": 10_100, "cost": 0.0123}
    mt.use_script(mt.Script({"anthropic/claude-sonnet-4.5": [{"text": "hi", "usage": usage}]}))
    session = session_for(project, "scripted:anthropic/claude-sonnet-4.5")
    op = session.run("what is this?")
    session.close()
    assert op.cost.total_usd == D("0.0123") and op.cost.source == "provider"
    (row,) = logged_calls(session)
    assert json.loads(row["raw_usage_json"]) == usage
    assert row["provider_cost_usd"] == pytest.approx(0.0123)
    assert row["cost_total_usd"] == pytest.approx(0.0123) and row["cost_source"] == "provider"
    # the table alone would have said $0.0315 (10,000 x $3/M + 100 x $15/M)
    assert row["cost_input_usd"] + row["cost_output_usd"] == pytest.approx(0.0315)


def test_deepseek_hit_miss_parts_are_billed_as_reported(project):
    usage = {
        "prompt_tokens": 4_000,
        "completion_tokens": 100,
        "prompt_cache_hit_tokens": 3_000,
        "prompt_cache_miss_tokens": 1_000,
    }
    mt.use_script(mt.Script({EXEC: [{"text": "hi", "usage": usage}]}))
    session = session_for(project, f"scripted:{EXEC}")
    op = session.run("what is this?")
    session.close()
    assert (op.usage.input_tokens, op.usage.cached_input_tokens) == (4_000, 3_000)
    assert op.usage.source == "reported"
    assert op.cost.total_usd == 1_000 * D("2.8e-7") + 3_000 * D("2.8e-8") + 100 * D("4.2e-7")
    (row,) = logged_calls(session)
    assert json.loads(row["raw_usage_json"])["prompt_cache_miss_tokens"] == 1_000


def test_deepseek_parts_that_disagree_with_the_prompt_are_billed_the_dear_way(project):
    usage = {
        "prompt_tokens": 5_000,  # disagrees with its parts: the 1,000 uncounted are misses
        "completion_tokens": 100,
        "prompt_cache_hit_tokens": 3_000,
        "prompt_cache_miss_tokens": 1_000,
    }
    mt.use_script(mt.Script({EXEC: [{"text": "hi", "usage": usage}]}))
    session = session_for(project, f"scripted:{EXEC}")
    op = session.run("what is this?")
    session.close()
    assert (op.usage.input_tokens, op.usage.cached_input_tokens) == (5_000, 3_000)
    assert op.usage.source == "estimated"
    assert op.cost.total_usd == 2_000 * D("2.8e-7") + 3_000 * D("2.8e-8") + 100 * D("4.2e-7")


def test_reprice_shows_old_against_new_without_touching_the_stored_rows(shell, tmp_path):
    mt.use_script(mt.Script({ORCH: [{"text": "one", "usage": {"input": 10_000, "output": 1_000}}]}))
    shell.run_cell_magic("mira", "", "what is this?")
    before = shell.run_line_magic("mira", "costs --no-chart")
    cheaper = tmp_path / "cheaper.json"
    cheaper.write_text(json.dumps({"version": "team", "models": {"gpt-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 5e-6}}}))
    frame = shell.run_line_magic("mira", f"costs --reprice {cheaper}")
    (row,) = frame.to_dict("records")
    assert row["model"] == f"scripted:{ORCH}"
    assert row["cost_old_usd"] == pytest.approx(0.0225)  # 10,000 x 1.25e-6 + 1000 x 1e-5
    assert row["cost_new_usd"] == pytest.approx(0.015)  # 10,000 x 1e-6 + 1000 x 5e-6
    assert row["delta_usd"] == pytest.approx(-0.0075)
    assert ":sha256:" in frame.attrs["price_version_new"]
    after = shell.run_line_magic("mira", "costs --no-chart")
    assert after["cost_usd"].tolist() == before["cost_usd"].tolist(), "stored rows untouched"
    from mira_jupyter.errors import MiraUsageError

    with pytest.raises(MiraUsageError, match="price file not found"):
        shell.run_line_magic("mira", f"costs --reprice {tmp_path / 'missing.json'}")


# -- 5. routing savings said honestly ------------------------------------------------------


def test_negative_routing_savings_are_shown_as_they_are(project):
    # the "cheap" executor is dearer than the orchestrator here
    script = mt.Script(
        {
            "gpt-5-nano": [plan_turn("Read"), call("get_file_summary", paths=["README.md"]), "ok", "done"],
            "gpt-5": [call("summarize_file", path="README.md"), "a summary"],
        }
    )
    h = Harness(project, script)
    h.settings.orchestrator_model, h.settings.executor_model = "scripted:gpt-5-nano", "scripted:gpt-5"
    op = h.engine.run("summarise the readme", RunOptions(mode="planned"))
    assert op.routing_savings_usd < 0
    assert "saved -$" in op.summary_line()
    state = OperationState()
    for event in h.events:
        state.apply(event)
    assert "routing saved -$" in render_text(state)
    from mira_jupyter.ui.static import footer_html

    footer = footer_html(state)
    assert "routing saved -$" in footer and "executor&#x27;s tokens priced at the orchestrator" in footer


def test_a_plan_with_an_unpriced_model_is_not_estimated_at_zero(project):
    script = mt.Script({"mystery-model": [plan_turn("Look")]})
    h = Harness(project, script)
    h.settings.orchestrator_model = "scripted:mystery-model"
    op = h.engine.run("refactor it", RunOptions(mode="planned", plan_only=True))
    assert op.status == "planned" and op.estimated_cost_usd is None
    notices = [e.message for e in h.of("Notice")]
    assert any("has no price" in n for n in notices)
    assert any("an unknown cost (unpriced model)" in n for n in notices)
