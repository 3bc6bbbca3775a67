"""A call the client did not see in full is counted by the token cap at its bound (r14e F1, F2).

Before, a call cut after its request reached the provider, or one whose stream carried no
usage report, was counted at our tiktoken estimate of its prompt plus the output seen, and
its reservation (prompt bound + max_tokens) went to later calls: a provider counting one
token per byte billed far past ``max_total_tokens``. Now such a call counts at the bound it
reserved (engine/call_bound.py); only the provider's own report replaces it. The scripted
provider here bills every request it read at the most it could: its own count of the prompt
(one token per byte) plus the whole ``max_tokens`` it was sent, cut or not.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading

import pytest
from engine_helpers import EXEC, Harness

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions


def _per_byte(body: dict) -> int:
    """A byte-level tokenizer with no merges, 4 framing tokens per message."""
    total = 4 * len(body.get("messages") or [])
    for message in body.get("messages") or []:
        content = message.get("content")
        total += len(str(message.get("role", "")).encode())
        total += len((content if isinstance(content, str) else json.dumps(content) if content else "").encode())
        for call in message.get("tool_calls") or ():
            total += len(json.dumps(call.get("function", {})).encode())
    return total + (len(json.dumps(body["tools"]).encode()) if body.get("tools") else 0)


def _numbers(seed: int) -> str:
    rng = random.Random(seed)
    return "id,amount\n" + "\n".join(f"{rng.randrange(10**9)},{rng.random():.6f}" for _ in range(100)) + "\n"


class Provider:
    """Answers a planned run of reads; `kind` "cut" drops the first attempt of every request
    after reading it, "unreported" never sends a usage report."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lock = threading.Lock()
        self.billed: list[int] = []
        self.seen: set[str] = set()
        reads = [{"tool_calls": [
            {"name": "read_project_file", "arguments": {"paths": [f"n{i}.csv"], "purpose": "its rows"}}
            for i in pair]} for pair in ((0, 1), (2, 3))]  # fmt: skip
        plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
            {"description": "Read the tables", "active_form": "Reading the tables"}]}}]}  # fmt: skip
        self.turns = [plan, *reads, "Read them.", "They hold numbers."]

    def __call__(self, request):
        body = request.body
        out = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        count = _per_byte(body)
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.lock:
            self.billed.append(count + out)  # the most a provider that read it can bill
            if self.kind == "cut" and key not in self.seen:
                self.seen.add(key)
                return {"fault": "cut", "after_chunks": 0}
            usage = {"usage_style": "none"} if self.kind == "unreported" else {"usage": {"input": count, "output": out}}
            if request.model == EXEC:
                last = request.messages[-1]
                if last.get("role") == "tool":
                    return {"text": "Verbatim:\n" + str(last.get("content"))[:2_000], **usage}
                job = next(str(m.get("content")) for m in request.messages if m.get("role") == "user")
                path = re.search(r"(n\d\.csv)", job).group(1)
                return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}], **usage}
            turn = self.turns.pop(0) if self.turns else "Done."
        return {**({"text": turn} if isinstance(turn, str) else turn), **usage}


@pytest.fixture()
def tables(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(4):
        (root / f"n{i}.csv").write_text(_numbers(i), encoding="utf-8")
    return root


def _run(root, kind: str, cap: int | None):
    provider = Provider(kind)
    settings = {"max_parallel": 2, "max_output_tokens": 2_048}
    if cap is not None:
        settings["max_total_tokens"] = cap
    h = Harness(root, mt.Script(responder=provider), **settings)
    op = h.engine.run("Summarise the tables", RunOptions(mode="planned"))
    return op, provider, h


@pytest.mark.parametrize("kind", ["cut", "unreported"])
def test_calls_not_seen_in_full_never_bill_past_the_cap(tables, kind):
    free, measured, h = _run(tables, kind, 10_000_000)
    assert free.status == "completed", free.error
    total = sum(measured.billed)
    stopped = 0
    for fraction in (0.3, 0.5, 0.7, 0.9):
        cap = int(total * fraction)
        op, provider, _ = _run(tables, kind, cap)
        assert sum(provider.billed) <= cap, f"{kind}: billed {sum(provider.billed):,} under a cap of {cap:,}"
        if op.status == "failed":
            assert "token cap reached" in (op.error or ""), op.error
            stopped += 1
    assert stopped >= 2  # the cap really stopped runs


def test_a_provider_without_usage_reports_is_said_once_per_model(tables):
    op, _, h = _run(tables, "unreported", 10_000_000)
    assert op.status == "completed", op.error
    said = [n.message for n in h.of("Notice") if "reports no token usage" in n.message]
    assert len(said) == 2, said  # the orchestrator's model and the executor's, once each
    assert all("the token cap counts each of its calls at its worst case" in line for line in said)
