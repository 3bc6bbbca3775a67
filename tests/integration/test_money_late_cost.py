"""Issue 12: a provider that states its own cost overspends a budget by at most one request,
even when its first reply stated none (its calls go one at a time from the start)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from money_helpers import run_concurrently, sent_limit, session_for

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.tokens import count_message_tokens

D = Decimal
ROUTER = "anthropic/claude-sonnet-4.5"  # an OpenRouter entry of the table: $3 / $15 per million


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


def test_a_cost_stated_only_from_the_second_reply_on_overspends_by_at_most_one_request(tmp_path):
    billed: list[Decimal] = []
    lock = threading.Lock()

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        output = sent_limit(record) or 4_096
        table = prompt * D("3e-6") + output * D("1.5e-5")
        with lock:
            first = not billed
            billed.append(table if first else table * 20)
        usage = {"prompt_tokens": prompt, "completion_tokens": output}
        if not first:
            usage["cost"] = float(table * 20)  # the route changed: 20x the table
        return {"text": "done", "usage": usage}

    (tmp_path / "README.md").write_text("# Loader\n")
    mt.use_script(mt.Script(responder=respond))
    session = session_for(tmp_path, f"scripted:{ROUTER}", executor=f"scripted:{ROUTER}", budget_usd=0.5)
    ops = run_concurrently(session, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    assert all(op is not None for op in ops)
    over = sum(billed) - D("0.5")
    assert over <= max(billed), f"${over} beyond the budget, more than one request (${max(billed)})"
    assert session.engine.spend.spent == sum(billed), "every billed dollar is in the ledger"
