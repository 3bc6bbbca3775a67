"""Issue 12, review r12d F2: a usage report below what the client itself saw is not believed.

Some gateways and local servers answer a long streamed reply with ``usage`` of zeros (or a
completion count of 1). Such a report is read the dear way (the tokenizer's count of what
was sent and received), marked ``estimated``, said once, charged to the budget as a call
whose hidden part is unknown, and repriced as it was priced; end to end through the
scripted model into a real DuckDB file.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from money_helpers import logged_calls, logged_spend, session_for

import mira_jupyter.testing as mt
from mira_jupyter.core.events import Usage
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.client import OpenAICompatibleModel, Timeouts
from mira_jupyter.llm.responses import OpenAIResponsesModel
from mira_jupyter.llm.tokens import count_tokens
from mira_jupyter.llm.usage import resolve_usage
from mira_jupyter.reprice import reprice

D = Decimal
LONG = "Here is a long explanation of the loader. " * 300  # ~2,700 tokens streamed
ZEROS = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
KEY_ENV = "MIRA_TEST_API_KEY"
USER = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Explain the loader."}]


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    (tmp_path / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return tmp_path


def test_a_report_of_zeros_for_a_streamed_answer_is_estimated_and_the_budget_holds(project):
    mt.use_script(mt.Script({"gpt-5": [{"text": LONG, "usage": ZEROS, "repeat": True}]}))
    session = session_for(project, "scripted:gpt-5", budget_usd=0.05)
    events: list = []
    ops = [
        session.run("explain the loader", RunOptions(mode="simple", new_conversation=True), view=events.append)
        for _ in range(6)
    ]
    session.close()
    first = ops[0]
    assert first.status == "completed"
    assert first.usage.source == "estimated"
    assert first.usage.input_tokens > 1_000 and first.usage.output_tokens >= count_tokens(LONG)
    assert first.cost.total_usd > D("0.02"), "priced from what was seen, never a reported $0"
    assert first.cost.bounded, "the hidden reasoning of a report that cannot be true is unknown"
    assert [op.status for op in ops[1:]] == ["budget_exceeded"] * 5, "the budget sees the spending"
    spent, calls = logged_spend(session), len(logged_calls(session))
    assert calls == 1 and D("0.02") < spent <= D("0.05")
    (row,) = logged_calls(session)
    assert row["usage_source"] == "estimated" and row["cost_total_usd"] > 0
    assert json.loads(row["raw_usage_json"]) == ZEROS, "the provider's object is kept as received"
    said = [e for e in events if e.type == "Notice" and "below what the client saw" in e.message]
    assert len(said) == 1 and "\n" not in said[0].message and "estimated" in said[0].message


def test_a_completion_count_far_below_the_streamed_text_is_not_believed(project):
    usage = {"prompt_tokens": 5_000, "completion_tokens": 1, "total_tokens": 5_001}
    mt.use_script(mt.Script({"gpt-5": [{"text": LONG, "usage": usage}]}))
    session = session_for(project, "scripted:gpt-5")
    op = session.run("explain the loader", RunOptions(mode="simple"))
    session.close()
    assert op.usage.source == "estimated"
    assert op.usage.input_tokens == 5_000, "the prompt count agrees with what was sent: kept"
    assert op.usage.output_tokens >= count_tokens(LONG)
    assert op.cost.total_usd >= 5_000 * D("1.25e-6") + count_tokens(LONG) * D("1e-5")


def test_a_provider_cost_of_zero_with_counts_of_zero_is_not_the_truth(project):
    usage = {**ZEROS, "cost": 0}
    mt.use_script(mt.Script({"anthropic/claude-sonnet-4.5": [{"text": LONG, "usage": usage}]}))
    session = session_for(project, "scripted:anthropic/claude-sonnet-4.5")
    op = session.run("explain the loader", RunOptions(mode="simple"))
    session.close()
    assert op.cost.source == "table" and op.cost.total_usd > D("0.03")
    (row,) = logged_calls(session)
    assert row["provider_cost_usd"] == 0, "what the provider said is kept beside it"


def test_repricing_a_row_read_from_what_was_seen_is_the_identity(project):
    mt.use_script(mt.Script({"gpt-5": [{"text": LONG, "usage": ZEROS}]}))
    session = session_for(project, "scripted:gpt-5")
    op = session.run("explain the loader", RunOptions(mode="simple"))
    session.close()
    same = project / "same.json"
    same.write_text(json.dumps({"models": {"gpt-5": {"input_cost_per_token": "1.25e-6", "output_cost_per_token": "1e-5"}}}))
    frame = reprice(session.database, same)
    (row,) = frame.to_dict("records")
    assert row["cost_old_usd"] == pytest.approx(float(op.cost.total_usd)) and op.cost.total_usd > 0
    assert row["delta_usd"] == pytest.approx(0), "repriced from the stored reading, not the zeros"


def test_counts_a_little_below_ours_are_a_tokenizer_difference_and_stay_reported():
    from mira_jupyter.llm.usage import seen_contradiction

    seen = Usage(input_tokens=2_000, output_tokens=1_000, source="estimated")
    for reported in (Usage(input_tokens=1_400, output_tokens=700), Usage(input_tokens=1_001, output_tokens=501)):
        assert seen_contradiction(reported, seen) is None
        raw = {"prompt_tokens": reported.input_tokens, "completion_tokens": reported.output_tokens}
        assert resolve_usage(raw, lambda: seen).source == "reported"
    # short texts: a few tokens' difference is never a contradiction
    assert seen_contradiction(Usage(input_tokens=5, output_tokens=3), Usage(input_tokens=20, output_tokens=9)) is None
    assert seen_contradiction(Usage(input_tokens=0, output_tokens=3), Usage(input_tokens=20, output_tokens=9))
    assert seen_contradiction(Usage(input_tokens=900, output_tokens=3), seen)


def test_the_dear_reading_keeps_named_reasoning_and_drops_a_contradicted_cache():
    seen = Usage(input_tokens=3_000, output_tokens=2_000, source="estimated")
    raw = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "prompt_tokens_details": {"cached_tokens": 80},
        "completion_tokens_details": {"reasoning_tokens": 40},
    }
    usage = resolve_usage(raw, lambda: seen)
    assert (usage.input_tokens, usage.cached_input_tokens) == (3_000, 0)
    assert (usage.output_tokens, usage.reasoning_tokens) == (2_040, 40)
    assert usage.source == "estimated" and usage.raw == raw


def test_the_responses_api_does_not_believe_zeros_either(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-key-0123456789")
    script = mt.Script({"gpt-5": [{"text": LONG, "usage": {"input_tokens": 0, "output_tokens": 0}}]})
    model = OpenAIResponsesModel(
        "openai", "gpt-5", base_url="http://scripted.invalid/v1", key_env=KEY_ENV, key_required=True,
        http_client=mt.scripted_http_client(script), timeouts=Timeouts(connect=2.0, read=10.0),
    )
    assert isinstance(model, OpenAICompatibleModel)
    response = model.chat(USER)
    assert response.usage.source == "estimated"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens >= count_tokens(LONG)
