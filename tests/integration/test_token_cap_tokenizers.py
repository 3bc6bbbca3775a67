"""`max_total_tokens` holds whatever the provider's tokenizer (r14d F1).

Before, the cap reserved each prompt at our tiktoken count times a margin (+10% for gpt-5,
+35% for others, or a ratio learned from earlier replies): a provider counting digits one
by one, or every byte, or twice what tiktoken does, spent past the cap, most of all with
several delegations in flight before any reply had taught a ratio. Now a prompt is bound
by its bytes, or by what the provider itself reported for the part of it already sent plus
the bytes of the rest (engine/prompt_bound.py), and the scripted providers below, each
reporting its own count and the whole max_tokens it was sent, never pass the cap.
"""

from __future__ import annotations

import json
import random
import re
import threading

import pytest
from engine_helpers import EXEC, Harness

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.tokens import count_message_tokens, count_tokens


def _texts(body: dict) -> list[str]:
    """The text a provider tokenizes: every message's role, content and tool calls, and the tools."""
    parts: list[str] = []
    for message in body.get("messages") or []:
        parts.append(str(message.get("role", "")))
        content = message.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content) if content else "")
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            parts += [str(function.get("name", "")), str(function.get("arguments", ""))]
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return parts


def _per_byte(body: dict) -> int:
    # a byte-level tokenizer with no merges at all, and 4 framing tokens per message
    return sum(len(text.encode()) for text in _texts(body)) + 4 * len(body.get("messages") or [])


def _per_digit(body: dict) -> int:
    # tiktoken, except that every digit is a token of its own (o200k groups up to three)
    text = "".join(_texts(body))
    return count_tokens(re.sub(r"\d", "", text)) + sum(ch.isdigit() for ch in text) + 3 * len(body["messages"])


def _twice(body: dict) -> int:
    tools = body.get("tools")
    return 2 * (count_message_tokens(body.get("messages") or []) + (count_tokens(json.dumps(tools)) if tools else 0))


TOKENIZERS = {"one-per-byte": _per_byte, "one-per-digit": _per_digit, "twice-tiktoken": _twice}


def _numbers_file(seed: int) -> str:
    """A CSV of numbers, with a little emoji and CJK: what tokenizers disagree on most."""
    rng = random.Random(seed)
    rows = [f"{rng.randrange(10**9)},{rng.randrange(10**6)}.{rng.randrange(100):02d},{rng.random():.6f}"
            for _ in range(120)]  # fmt: skip
    return "id,amount,ratio 📈 数据\n" + "\n".join(rows) + "\n"


class Provider:
    """Reports `count(request)` as input and the whole max_tokens sent as output, per call."""

    def __init__(self, count, turns: list) -> None:
        self.count = count
        self.turns = list(turns)
        self.lock = threading.Lock()
        self.spent: list[int] = []

    def __call__(self, request):
        body = request.body
        output = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        usage = {"input": self.count(body), "output": output}
        with self.lock:
            self.spent.append(usage["input"] + output)
            if request.model == EXEC:
                messages = request.messages
                if messages and messages[-1].get("role") == "tool":
                    return {"text": "Verbatim:\n" + str(messages[-1].get("content"))[:3_000], "usage": usage}
                job = next(str(m.get("content")) for m in messages if m.get("role") == "user")
                path = re.search(r"(n\d\.csv)", job).group(1)
                return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}], "usage": usage}
            turn = self.turns.pop(0) if self.turns else "Done."
        turn = {"text": turn} if isinstance(turn, str) else dict(turn)
        return {**turn, "usage": usage}


def _reads(names: list[str]) -> dict:
    return {"tool_calls": [
        {"name": "read_project_file", "arguments": {"paths": [name], "purpose": f"the rows of {name}"}}
        for name in names
    ]}  # fmt: skip


def _turns() -> list:
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
        {"description": "Read the tables", "active_form": "Reading the tables"}]}}]}  # fmt: skip
    return [plan, _reads([f"n{i}.csv" for i in range(4)]), _reads([f"n{i}.csv" for i in range(4, 8)]),
            "Read them.", "They hold numbers."]  # fmt: skip


@pytest.fixture()
def tables(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(8):
        (root / f"n{i}.csv").write_text(_numbers_file(i), encoding="utf-8")
    return root


def _run(root, count, cap: int | None):
    provider = Provider(count, _turns())
    settings = {"max_parallel": 4, "max_output_tokens": 2_048}
    if cap is not None:
        settings["max_total_tokens"] = cap
    h = Harness(root, mt.Script(responder=provider), **settings)
    op = h.engine.run("Summarise the tables 12345 67890", RunOptions(mode="planned"))
    return op, provider, h


@pytest.mark.parametrize("tokenizer", sorted(TOKENIZERS))
def test_no_tokenizer_spends_past_the_cap_with_reads_in_flight_together(tables, tokenizer):
    count = TOKENIZERS[tokenizer]
    free, measured, _ = _run(tables, count, None)
    assert free.status == "completed", free.error
    total = sum(measured.spent)
    stopped = 0
    for fraction in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
        cap = int(total * fraction)
        op, provider, h = _run(tables, count, cap)
        spent = op.usage.input_tokens + op.usage.output_tokens
        assert spent == sum(provider.spent), "every call that went out is counted"
        assert spent <= cap, f"{tokenizer}: spent {spent:,} tokens under a cap of {cap:,}"
        assert len(h.of("LLMCallFinished")) == len(provider.spent)
        if op.status == "failed":
            assert "token cap reached" in (op.error or ""), op.error
            stopped += 1
    assert stopped >= 3  # the cap really stopped runs at several points


@pytest.mark.parametrize("tokenizer", sorted(TOKENIZERS))
def test_a_digit_heavy_prompt_the_provider_counts_above_the_cap_is_never_sent(tmp_path, tokenizer):
    count = TOKENIZERS[tokenizer]
    request = "Add these up:\n" + _numbers_file(7) * 3
    seen: list[int] = []

    def respond(req):
        seen.append(count(req.body))
        return {"text": "A lot.", "usage": {"input": seen[-1], "output": 10}}

    h = Harness(tmp_path, mt.Script(responder=respond))
    op = h.engine.run(request, RunOptions(mode="simple"))
    assert op.status == "completed", op.error
    counted = seen[0]
    # a fresh session, with a cap the provider's count of that prompt does not fit
    h = Harness(tmp_path, mt.Script(responder=respond), max_total_tokens=counted - 1)
    op = h.engine.run(request, RunOptions(mode="simple"))
    assert op.status == "failed" and len(seen) == 1, "sent, though the provider counts it above the cap"
    assert "token cap reached" in op.error
