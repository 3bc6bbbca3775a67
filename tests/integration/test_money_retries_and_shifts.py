"""Issue 12, the second hostile review, end to end into a real DuckDB file.

A retried call's every attempt is billed (the provider's own cost included), stored and
repriced as itself; a provider whose price or count changes after its first reply cannot
take the budget further than one call; a usage object that contradicts itself is read the
dear way, marked estimated and said; a cost below the log's precision is never free.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from engine_helpers import ORCH
from money_helpers import logged_calls, logged_spend, run_concurrently, sent_limit, session_for

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.tokens import count_message_tokens
from mira_jupyter.reprice import reprice

D = Decimal
ROUTER = "anthropic/claude-sonnet-4.5"  # $3 / $15 per million in the table
ROUTER_IN, ROUTER_OUT = D("3e-6"), D("1.5e-5")


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    (tmp_path / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return tmp_path


def _cut_after_usage(usage: dict) -> dict:
    """An attempt the provider processed and billed (its usage chunk arrived), then the
    connection dropped before [DONE]: no output was shown, so the client retries it."""
    return {"text": "", "usage": usage, "fault": "cut", "after_chunks": 3}


# -- 1. every attempt of a retried call is billed ---------------------------------------------


@pytest.mark.parametrize("budget", [None, 0.5])
def test_a_retried_call_counts_the_provider_cost_of_every_attempt(project, budget):
    billed = {"prompt_tokens": 10_000, "completion_tokens": 100, "cost": 0.4}
    script = mt.use_script(
        mt.Script({ROUTER: [_cut_after_usage(billed), {"text": "an answer", "usage": billed}]})
    )
    traits = {} if budget is None else {"budget_usd": budget}
    session = session_for(project, f"scripted:{ROUTER}", **traits)
    op = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert len(script.requests) == 2, "the cut attempt was retried"
    assert op.cost.total_usd == D("0.8"), "both attempts were charged $0.40 by the provider"
    assert op.cost.source == "provider"
    assert session.engine.spend.spent == D("0.8"), "the session ledger sees both"
    if budget is not None:
        assert op.status == "budget_exceeded" and "$0.8000" in op.error
    (row,) = logged_calls(session)
    assert row["provider_cost_usd"] == pytest.approx(0.8)
    assert row["cost_total_usd"] == pytest.approx(0.8) and row["cost_source"] == "provider"
    attempts = json.loads(row["raw_usage_json"])["mira_attempts"]
    assert [a["raw"]["cost"] for a in attempts] == [0.4, 0.4], "each attempt's object is kept"
    assert logged_spend(session) == D("0.8")


def test_a_retry_after_a_tabled_attempt_adds_the_providers_figure_to_the_table_price(project):
    unpriced_by_provider = {"prompt_tokens": 10_000, "completion_tokens": 100}
    billed = {"prompt_tokens": 10_000, "completion_tokens": 100, "cost": 0.4}
    mt.use_script(
        mt.Script({ROUTER: [_cut_after_usage(unpriced_by_provider), {"text": "ok", "usage": billed}]})
    )
    session = session_for(project, f"scripted:{ROUTER}")
    op = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    table = 10_000 * ROUTER_IN + 100 * ROUTER_OUT
    assert op.cost.total_usd == table + D("0.4")
    assert op.cost.source == "mixed"
    (row,) = logged_calls(session)
    assert row["provider_cost_usd"] == pytest.approx(0.4)


# -- 4. repricing at the same prices is the identity, retried calls included -----------------


def test_reprice_at_the_same_prices_is_the_identity_on_retried_calls(project, tmp_path):
    reported = {"prompt_tokens": 2_000, "completion_tokens": 300}
    billed = {"prompt_tokens": 1_000, "completion_tokens": 100, "cost": 0.0123}
    mt.use_script(
        mt.Script(
            {
                ORCH: [_cut_after_usage(reported), {"text": "one", "usage": reported}, "two"],
                ROUTER: [_cut_after_usage(reported), {"text": "three", "usage": billed}],
            }
        )
    )
    session = session_for(project, f"scripted:{ORCH}")
    for request in ("first?", "second?"):
        assert session.run(request, RunOptions(mode="simple")).status == "completed"
    router = session_for(project, f"scripted:{ROUTER}")
    assert router.run("third?", RunOptions(mode="simple")).status == "completed"
    router.close()
    session.close()
    rows = logged_calls(session)
    assert sum(1 for r in rows if r["raw_usage_json"] and "mira_attempts" in r["raw_usage_json"]) == 2
    same = tmp_path / "same.json"  # today's shipped prices, restated
    same.write_text(
        json.dumps(
            {
                "version": "same",
                "models": {
                    "gpt-5": {
                        "input_cost_per_token": "1.25e-06",
                        "cache_read_input_token_cost": "1.25e-07",
                        "output_cost_per_token": "1e-05",
                    }
                },
            }
        )
    )
    frame = reprice(session.database, same, by="operation")
    totals = frame.attrs["totals"]
    assert totals["cost_old_usd"] == totals["cost_new_usd"], frame.to_dict("records")
    assert totals["delta_usd"] == 0
    assert (frame["delta_usd"] == 0).all()
    assert totals["cost_old_usd"] > 0


# -- 2. a price or count that changes after the first reply -----------------------------------


class _Shift:
    """1 for the first request, then `factor` (thread-safe)."""

    def __init__(self, factor: float) -> None:
        self.factor, self.seen, self.lock = factor, 0, threading.Lock()

    def next(self) -> float:
        with self.lock:
            self.seen += 1
            return 1.0 if self.seen == 1 else self.factor


@pytest.mark.parametrize("factor", [4, 20])
def test_a_provider_price_that_rises_after_its_first_reply_overspends_by_at_most_one_call(project, factor):
    shift, bills, lock = _Shift(factor), [], threading.Lock()

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        output = sent_limit(record) or 4_096
        cost = (prompt * ROUTER_IN + output * ROUTER_OUT) * D(shift.next())
        with lock:
            bills.append(cost)
        return {"text": "done", "usage": {"prompt_tokens": prompt, "completion_tokens": output, "cost": str(cost)}}

    mt.use_script(mt.Script(responder=respond))
    budget = D("0.5")
    session = session_for(project, f"scripted:{ROUTER}", budget_usd=float(budget))
    ops = run_concurrently(session, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    session.close()
    assert all(op is not None for op in ops)
    billed = sum(bills, D(0))
    assert billed <= budget + max(bills), f"billed {billed} of {budget}: more than one call beyond it"
    assert logged_spend(session) == billed, "the log counts what the provider charged"


def test_a_provider_counting_more_after_its_first_reply_stays_within_the_budget(project):
    # 2.5x tiktoken is within the prompt's UTF-8 bytes (2.9 per token here): a count any
    # byte-level tokenizer may reach, so the reservation must bound it however it shifts
    shift, bills, lock = _Shift(2.5), [], threading.Lock()
    price_in, price_out = D("1.25e-6"), D("1e-5")

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = int(count_message_tokens(record.messages, record.body.get("tools")) * shift.next())
        output = sent_limit(record) or 4_096
        with lock:
            bills.append(prompt * price_in + output * price_out)
        return {"text": "done", "usage": {"input": prompt, "output": output}}

    mt.use_script(mt.Script(responder=respond))
    budget = D("0.3")
    session = session_for(project, f"scripted:{ORCH}", budget_usd=float(budget))
    big = "Explain this code:\n" + "def f(x):\n    return [i * x for i in range(10)]\n" * 400
    ops = run_concurrently(session, [f"{big}\n# variant {i}" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    session.close()
    assert all(op is not None for op in ops) and len(bills) >= 2
    assert sum(bills, D(0)) <= budget, f"billed {sum(bills, D(0))} of {budget}"


# -- 3. a usage object that contradicts itself -------------------------------------------------

INCONSISTENT = {
    # DeepSeek: neither hits nor misses, yet a million prompt tokens
    "deepseek-zero-parts": (
        "deepseek-chat",
        {"prompt_tokens": 1_000_000, "completion_tokens": 10, "prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 0},
        (1_000_000, 0, 10, 0),
        1_000_000 * D("2.8e-7") + 10 * D("4.2e-7"),
    ),
    "reasoning-above-completion": (
        "gpt-5",
        {"prompt_tokens": 10_000, "completion_tokens": 10, "completion_tokens_details": {"reasoning_tokens": 5_000}},
        (10_000, 0, 5_010, 5_000),
        10_000 * D("1.25e-6") + 5_010 * D("1e-5"),
    ),
    "cached-above-prompt": (
        "gpt-5",
        {"prompt_tokens": 100, "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 4_000}},
        (4_100, 4_000, 10, 0),
        100 * D("1.25e-6") + 4_000 * D("1.25e-7") + 10 * D("1e-5"),
    ),
}


@pytest.mark.parametrize("case", list(INCONSISTENT), ids=list(INCONSISTENT))
def test_inconsistent_usage_is_read_the_dear_way_marked_estimated_and_said(project, case):
    model, usage, counts, cost = INCONSISTENT[case]
    mt.use_script(mt.Script({model: [{"text": "one", "usage": usage}]}))
    session = session_for(project, f"scripted:{model}")
    events: list = []
    op = session.run("what is this?", RunOptions(mode="simple"), view=events.append)
    session.close()
    assert op.status == "completed"
    u = op.usage
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens, u.reasoning_tokens) == counts
    assert u.source == "estimated"
    assert op.cost.total_usd == cost, "the dearer of the two readings"
    (row,) = logged_calls(session)
    assert row["usage_source"] == "estimated"
    assert json.loads(row["raw_usage_json"]) == usage
    said = [e for e in events if e.type == "Notice" and "contradicts itself" in e.message]
    assert len(said) == 1 and "\n" not in said[0].message and "estimated" in said[0].message


# -- 6. a cost below the log's precision is never free -----------------------------------------


def test_a_cost_below_a_billionth_of_a_dollar_is_stored_rounded_up_not_as_zero(project, tmp_path):
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps({"models": {"gpt-5": {"input_cost_per_token": "1e-13", "output_cost_per_token": "1e-13"}}}))
    mt.use_script(mt.Script({ORCH: [{"text": "one", "usage": {"input": 3_000, "output": 2}}]}))
    session = session_for(project, f"scripted:{ORCH}", prices_file=str(tiny))
    op = session.run("what is this?", RunOptions(mode="simple"))
    session.close()
    assert op.cost.total_usd == D("3.002e-10")
    (row,) = logged_calls(session)
    assert row["cost_total_usd"] > 0 and row["cost_input_usd"] > 0 and row["cost_output_usd"] > 0
    assert logged_spend(session) == D("1e-9"), "rounded up to the column's precision"
    frame = reprice(session.database, tiny)
    assert frame.attrs["totals"]["delta_usd"] == 0, "repricing rounds the same way"


# -- 1b. a retry reserves its own worst case -------------------------------------------------


def test_a_retry_that_the_budget_cannot_pay_for_is_not_sent(project):
    bills: list[Decimal] = []

    def respond(record: mt.RecordedRequest) -> dict:
        output = sent_limit(record) or 4_096
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        bills.append(prompt * D("1.25e-6") + output * D("1e-5"))
        usage = {"prompt_tokens": prompt, "completion_tokens": output}
        if len(bills) == 1:  # billed in full, then cut before [DONE]: the client retries
            return _cut_after_usage(usage)
        return {"text": "done", "usage": usage}

    mt.use_script(mt.Script(responder=respond))
    budget = D("0.05")
    session = session_for(project, f"scripted:{ORCH}")
    op = session.run("what is this?", RunOptions(mode="simple", reasoning="low", budget_usd=budget))
    session.close()
    assert op.status == "budget_exceeded", op.error
    assert "retry" in op.error and "\n" not in op.error
    assert len(bills) == 1, "the retry was not sent"
    assert sum(bills, D(0)) <= budget
    (row,) = logged_calls(session)
    assert row["cost_total_usd"] == pytest.approx(float(bills[0])), "the billed attempt is recorded"


def test_a_retried_call_is_bounded_attempt_by_attempt(project):
    # the first attempt reached the model and was cut before any usage report: it may have
    # reasoned up to its max_tokens; the second reported exactly
    script = mt.use_script(
        mt.Script(
            {
                ORCH: [
                    {"text": "", "fault": "cut", "after_chunks": 1},
                    {"text": "done", "usage": {"prompt_tokens": 500, "completion_tokens": 3_000}},
                ]
            }
        )
    )
    session = session_for(project, f"scripted:{ORCH}")
    op = session.run("what is this?", RunOptions(mode="simple", reasoning="high"))
    session.close()
    assert op.status == "completed" and len(script.requests) == 2
    limit = sent_limit(script.requests[0])
    (row,) = logged_calls(session)
    first_prompt = row["input_tokens"] - 500
    assert first_prompt > 0, "the cut attempt's prompt counts"
    total = D(str(row["cost_total_usd"]))
    assert total == (first_prompt + 500) * D("1.25e-6") + 3_000 * D("1e-5")
    assert D(str(row["cost_upper_usd"])) >= total + limit * D("1e-5"), "the first attempt's allowance"
