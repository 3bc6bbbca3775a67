"""The token cap reserves what a provider has counted at its count, not its bytes (r14c M1),
and what it has not counted at its bytes (r14d F1).

r14c M1: `max_total_tokens` reserved each whole prompt at its UTF-8 byte count, about 4.5
times the tokens of Python code, so planned runs of parallel reads stopped at half the cap.
r14d F1: the fix reserved prompts at our tiktoken count times a margin, which a provider
counting digits, emoji or bytes one by one passed (tests/integration/test_token_cap_tokenizers.py).
Now the part of a prompt the provider has already counted is reserved at its own count, and
only the rest at its bytes (engine/prompt_bound.py). The dollar budget keeps its byte bound
(tests/integration/test_money_*).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from engine_helpers import EXEC, ORCH, Harness

import mira_jupyter
import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.tokens import count_message_tokens, count_prompt_bytes, count_tokens


def _python(tokens: int) -> str:
    """Real Python source (this package's), about `tokens` tokens of it."""
    parts, total = [], 0
    for path in sorted(Path(mira_jupyter.__file__).parent.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        parts.append(text)
        total += count_tokens(text)
        if total >= tokens:
            return "\n".join(parts)
    raise AssertionError("not enough source")


def _counted(body: dict) -> int:
    """Our token count of a request, as the engine makes it before sending."""
    tools = body.get("tools")
    return count_message_tokens(body.get("messages") or []) + (count_tokens(json.dumps(tools)) if tools else 0)


def test_a_prompt_the_provider_has_counted_is_reserved_at_its_count_not_its_bytes(tmp_path):
    request = "Explain this code:\n" + _python(20_000)
    tokens, size = count_tokens(request), len(request.encode())
    assert size > 3.5 * tokens  # Python code: several bytes per token
    script = mt.Script({ORCH: ["It is an agent.", "It is an agent."]})
    h = Harness(tmp_path, script)
    first = h.engine.run(request, RunOptions(mode="simple", new_conversation=True))
    assert first.status == "completed", first.error
    # the same cell again, under a cap with room for the prompt's tokens, not for its bytes:
    # the provider has counted that very prompt, so its count is what is reserved
    h.engine.settings.max_total_tokens = cap = 3 * tokens
    op = h.engine.run(request, RunOptions(mode="simple", new_conversation=True))
    assert op.status == "completed", op.error  # at its bytes: "token cap reached ... may use up to"
    assert len(script.requests) == 2
    assert op.usage.input_tokens + op.usage.output_tokens <= cap


def test_a_prompt_no_provider_has_counted_is_refused_at_its_byte_bound(tmp_path):
    # r14d F1: our count says nothing sure about another tokenizer's, the bytes do
    request = "Explain this code:\n" + _python(5_000)
    script = mt.Script({ORCH: ["It is an agent."]})
    h = Harness(tmp_path, script, max_total_tokens=4 * count_tokens(request))
    op = h.engine.run(request, RunOptions(mode="simple"))
    assert op.status == "failed" and script.requests == []
    assert "token cap reached" in op.error
    need = int(op.error.split("may use up to ")[1].split(" ")[0].replace(",", ""))
    assert need > len(request.encode())


class NearWorst:
    """A provider reporting one token per byte of each prompt's text as input (as many as any
    tokenizer can count) and what it was sent as max_tokens as output; optionally `ratio`
    times our count instead."""

    def __init__(self, turns: list, ratio: float | None = None) -> None:
        self.turns = list(turns)
        self.ratio = ratio
        self.lock = threading.Lock()
        self.tokens: list[int] = []
        self.calls: list[tuple[str, int, int]] = []  # (model, our count, input reported)

    def __call__(self, request):
        body = request.body
        counted = _counted(body)
        if self.ratio is not None:
            prompt = int(counted * self.ratio)
        else:
            text = [str(m.get("content") or "") + json.dumps(m.get("tool_calls") or "") for m in body["messages"]]
            prompt = len(("".join(text) + json.dumps(body.get("tools") or "")).encode())
        output = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        usage = {"input": prompt, "output": output}
        with self.lock:
            self.tokens.append(prompt + output)
            self.calls.append((request.model, counted, prompt))
            if request.model == EXEC:
                return {"text": "It defines helpers.", "usage": usage}
            turn = self.turns.pop(0) if self.turns else "Done."
        turn = {"text": turn} if isinstance(turn, str) else dict(turn)
        return {**turn, "usage": usage}


def _plan() -> dict:
    task = {"description": "Read the modules", "active_form": "Reading the modules"}
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [task]}}]}


def _reads(n: int) -> dict:
    return {"tool_calls": [
        {"name": "read_project_file", "arguments": {"paths": [f"m{i}.py"], "purpose": f"what m{i} does"}}
        for i in range(n)
    ]}  # fmt: skip


@pytest.fixture()
def big_project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    return root


def _run(root: Path, provider: NearWorst, cap: int | None):
    settings = {"max_output_tokens": 64, "max_parallel": 4}
    if cap is not None:
        settings["max_total_tokens"] = cap
    h = Harness(root, mt.Script(responder=provider), **settings)
    return h.engine.run(_python(6_000), RunOptions(mode="planned")), h


def test_reads_of_one_turn_stay_within_the_cap_when_prompts_outweigh_outputs(big_project):
    # every prompt carries ~6,000 tokens of code and max_tokens is 64: the prompt's bound is
    # what the cap holds, so a reservation below what the provider counts would overshoot
    turns = [_plan(), _reads(4), "Read them.", "They define helpers."]
    free = NearWorst(turns)
    op, _ = _run(big_project, free, None)
    assert op.status == "completed", op.error
    before, one = sum(free.tokens[:2]), free.tokens[2]  # plan + first turn, then one read
    cap = before + one * 5 // 2  # room for two and a half reads
    provider = NearWorst(turns)
    op, h = _run(big_project, provider, cap)
    spent = op.usage.input_tokens + op.usage.output_tokens
    assert spent == sum(provider.tokens) <= cap, f"spent {spent:,} under a cap of {cap:,}"
    # the cap lets as many reads go out as fit: before, each read was reserved at its bytes
    # (~4x its tokens here) and only one of them went out
    assert len(provider.tokens) - 2 >= 2
    assert op.status == "failed" and "token cap reached" in op.error
    assert len(h.of("LLMCallFinished")) == len(provider.tokens)


def test_a_provider_counting_above_the_margin_is_reserved_at_what_it_showed(tmp_path):
    # a tokenizer counting 2x ours, above the margin: the first reply shows it, and from
    # then on, in every operation of the session, that model's prompts are reserved at it
    seen: list[int] = []

    def double(request):
        counted = _counted(request.body)
        seen.append(counted)
        return {"text": "It is an agent.", "usage": {"input": 2 * counted, "output": 10}}

    h = Harness(tmp_path, mt.Script(responder=double))
    first = h.engine.run("Explain this code:\n" + _python(3_000), RunOptions(mode="simple"))
    assert first.status == "completed", first.error
    assert first.usage.input_tokens == 2 * seen[0]  # more than the 1.10x it was reserved at
    # a cap with room for the next prompt at our margin but not at what the provider showed
    request = "Explain this code:\n" + _python(10_000)
    tokens = count_tokens(request)
    # the rest of the prompt (system prompt, framing) as the first call showed it
    rest = seen[0] - count_tokens("Explain this code:\n" + _python(3_000))
    assert 0 < rest < 3_000
    # fits at 1.10x (with room for its 8,192 output tokens), not at 2x (with the 3,072 least)
    h.engine.settings.max_total_tokens = cap = int((tokens + rest) * 1.25) + 8_192
    assert (tokens + rest) * 1.10 + 8_192 <= cap < (tokens + rest) * 2 + 3_072
    second = h.engine.run(request, RunOptions(mode="simple"))
    assert second.status == "failed", "sent, though the provider counts it above the cap"
    assert "token cap reached" in second.error and len(seen) == 1
    need = int(second.error.split("may use up to ")[1].split(" ")[0].replace(",", ""))
    assert need > 2 * tokens


def test_the_dollar_budget_still_reserves_prompts_at_their_bytes(tmp_path):
    # the money issue (12) was resolved on the byte bound: a prompt whose bytes do not fit
    # the budget is refused even though its tokens, with any margin below 2.5x, would
    from decimal import Decimal

    request = "Explain this code:\n" + _python(8_000)
    tokens = count_tokens(request)
    assert count_prompt_bytes([{"role": "user", "content": request}]) > 3.5 * tokens
    # gpt-5: $1.25 per million input, $10 per million output; a low-effort call needs room
    # for 3,072 output tokens (1,024 visible + 2,048 reasoning)
    budget = Decimal("1.25e-6") * Decimal(tokens) * Decimal("2.5") + Decimal("1e-5") * 3_072
    script = mt.Script({ORCH: ["It is an agent."]})
    h = Harness(tmp_path, script, budget_usd=budget.quantize(Decimal("1e-6")))
    op = h.engine.run(request, RunOptions(mode="simple"))
    assert op.status == "budget_exceeded" and script.requests == [], op.error
    assert "would be exceeded" in (op.error or "")
