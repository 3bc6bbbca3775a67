"""`max_total_tokens` holds when calls run at the same time (issue 14): each call reserves its
worst case (prompt bound + max_tokens sent) before it goes out, as the dollar budget does.

The scripted provider here is a near-worst case: every reply reports one token per byte of
the prompt's text as input (as many as any tokenizer can count, engine/prompt_bound.py) and
90% of the max_tokens it was sent as output, so the four reads of one orchestrator turn each
spend almost what they could. Before the fix the cap was checked
against finished calls only: all four reads passed the check together and the operation
spent several times the room it had left.
"""

from __future__ import annotations

import json
import threading

import pytest
from engine_helpers import EXEC, Harness

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(4):
        (root / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    return root


def _near_worst_usage(request) -> dict:
    body = request.body
    sent = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    text = [str(m.get("content") or "") + json.dumps(m.get("tool_calls") or "") for m in body.get("messages") or []]
    counted = len(("".join(text) + json.dumps(body.get("tools") or "")).encode())
    return {"input": counted, "output": int(sent * 0.9)}


def _plan(*tasks: dict) -> dict:
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": list(tasks)}}]}


def _reads(n: int) -> dict:
    return {"tool_calls": [
        {"name": "read_project_file", "arguments": {"paths": [f"m{i}.py"], "purpose": "what it does"}}
        for i in range(n)
    ]}  # fmt: skip


class Provider:
    """The orchestrator's turns in order and the executor's answers, all at near-worst usage."""

    def __init__(self, orchestrator: list[dict | str]) -> None:
        self.turns = list(orchestrator)
        self.lock = threading.Lock()
        self.tokens: list[tuple[str, int]] = []  # (model, tokens reported) per call

    def __call__(self, request):
        usage = _near_worst_usage(request)
        with self.lock:
            self.tokens.append((request.model, usage["input"] + usage["output"]))
        if request.model == EXEC:
            return {"text": "It defines one function.", "usage": usage}
        with self.lock:
            turn = self.turns.pop(0) if self.turns else "Done."
        turn = {"text": turn} if isinstance(turn, str) else dict(turn)
        return {**turn, "usage": usage}


def _run(project, cap: int | None, reads: int = 4, side_by_side: bool = False):
    if side_by_side:  # four reads-only tasks, each its own orchestrator conversation at once
        tasks = [{"description": f"Read m{i}.py", "active_form": f"Reading m{i}.py", "reads_only": True}
                 for i in range(reads)]  # fmt: skip
        turns = [_plan(*tasks)] + [f"m{i}.py read." for i in range(reads)] + ["They define f0..f3."]
    else:
        turns = [_plan({"description": "Read the modules", "active_form": "Reading"}),
                 _reads(reads), "Read them.", "They define f0..f3."]  # fmt: skip
    provider = Provider(turns)
    settings = {} if cap is None else {"max_total_tokens": cap}
    h = Harness(project, mt.Script(responder=provider), **settings)
    op = h.engine.run("read every module", RunOptions(mode="planned"))
    return op, provider, h


@pytest.mark.parametrize("side_by_side", [False, True], ids=["reads-in-one-turn", "reads-only-tasks"])
def test_calls_running_at_once_stay_within_the_token_cap(project, side_by_side):
    # an uncapped run first: what the calls before the parallel ones and one of them spend
    free, measured, _ = _run(project, None, side_by_side=side_by_side)
    assert free.status == "completed", free.error
    first = 1 if side_by_side else [m for m, _ in measured.tokens].index(EXEC)
    before = sum(t for _, t in measured.tokens[:first])
    one = measured.tokens[first][1]
    assert len(measured.tokens) >= first + 4 and one > 0

    # room for one and a half of them after the calls before
    cap = before + one * 3 // 2
    op, provider, h = _run(project, cap, side_by_side=side_by_side)
    spent = op.usage.input_tokens + op.usage.output_tokens
    assert spent == sum(t for _, t in provider.tokens)
    assert spent <= cap, f"spent {spent:,} tokens under a cap of {cap:,}"
    assert len(provider.tokens) > first  # the cap let one of them go out
    assert op.status == "failed"
    assert "token cap reached" in (op.error or "")
    # every call that went out is logged with its usage
    finished = h.of("LLMCallFinished")
    assert len(finished) == len(provider.tokens)


def test_a_call_whose_worst_case_cannot_fit_is_never_sent(project):
    op, provider, _ = _run(project, 200)
    assert provider.tokens == []  # nothing sent: the first prompt alone is over 200 tokens
    assert op.status == "failed"
    assert "token cap reached" in (op.error or "") and "limit 200" in op.error
