"""Chat Completions vs the Responses API on the same scripted planned operation.

The engine runs one planned operation (a plan, then per task a tool call delegated to the
executor and a closing turn, then the answer) three times through the real openai SDK
against the scripted model: over Chat Completions, over Responses without store (the
default: encrypted reasoning handed back) and over Responses with store
(``previous_response_id``). For every orchestrator request it reports

- sent: input tokens the client put in the request body (what is re-sent per turn);
- billed: input tokens the model read (the server's ``input_tokens``: the whole context);
- carried: reasoning tokens among them (earlier turns' reasoning the model sees again);
- cache-eligible: the share of the billed input that is an exact prefix of the previous
  request's context plus its output (what provider prompt caching can serve).

Then the time from cancel to the call returning over each API (target: under 1 s).

Usage: python benchmarks/responses_vs_chat.py [--tasks 3] [--cancel-repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.llm.client import OpenAICompatibleModel, Timeouts
from mira_jupyter.llm.responses import OpenAIResponsesModel
from mira_jupyter.llm.tokens import count_tokens
from mira_jupyter.llm.types import ModelCallCancelled
from mira_jupyter.testing.responses_wire import decrypt_reasoning

PLAN_REASONING, TURN_REASONING = 2_000, 300
GPT5_INPUT, GPT5_CACHED = 1.25e-6, 1.25e-7  # $/token, the shipped price table's gpt-5 entry


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}], "reasoning_tokens": TURN_REASONING}


def _script(tasks: int) -> mt.Script:
    plan = _call(
        "submit_plan",
        tasks=[{"description": f"Inspect module {i}", "active_form": f"Inspecting module {i}"} for i in range(tasks)],
    )
    plan["reasoning_tokens"] = PLAN_REASONING
    orchestrator: list[Any] = [plan]
    executor: list[Any] = []
    for i in range(tasks):
        orchestrator += [
            _call("get_file_summary", paths=[f"mod{i}.py"]),
            {"text": f"Module {i} defines f{i}().", "reasoning_tokens": TURN_REASONING},
        ]
        executor += [_call("summarize_file", path=f"mod{i}.py"), f"mod{i}.py: one function f{i}()."]
    orchestrator.append({"text": "All modules inspected.", "reasoning_tokens": TURN_REASONING})
    return mt.Script({"gpt-5": orchestrator, "deepseek-chat": executor})


def _units_chat(messages: list[dict[str, Any]]) -> list[tuple[str, int]]:
    out = []
    for m in messages:
        text = json.dumps([m.get("content"), m.get("tool_calls")], sort_keys=True)
        out.append((m.get("role", "") + text, count_tokens(text)))
    return out


def _units_items(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    out = []
    for item in items:
        if item.get("type") == "reasoning":
            secret = decrypt_reasoning(item.get("encrypted_content"))
            tokens = secret["t"] if secret else int(item.get("_tokens", 0))
            out.append(("reasoning:" + str(item.get("id")), tokens))
            continue
        clean = {k: v for k, v in item.items() if k not in ("_tokens", "id", "status")}
        if clean.get("type") == "message" and isinstance(clean.get("content"), list):
            clean["content"] = "".join(p.get("text", "") for p in clean["content"])
        clean.setdefault("type", "message")
        text = json.dumps(clean, sort_keys=True)
        body = clean.get("content") or clean.get("arguments") or clean.get("output") or ""
        out.append((text, count_tokens(str(body)) + count_tokens(str(clean.get("name", "")))))
    return out


def _tools_unit(body: dict[str, Any]) -> list[tuple[str, int]]:
    # tool schemas open the prompt and are re-sent every turn, with or without a chain
    if not body.get("tools"):
        return []
    text = json.dumps(body["tools"], sort_keys=True)
    return [("tools:" + text, count_tokens(text))]


def _rendered(units: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """What the model reads: reasoning from before the latest user message is dropped."""
    last_user = max(
        (n for n, (u, _) in enumerate(units) if u.startswith("user") or '"role": "user"' in u), default=-1
    )
    return [(u, t) for n, (u, t) in enumerate(units) if not (u.startswith("reasoning:") and n < last_user)]


def _prefix_tokens(units: list[tuple[str, int]], previous: list[tuple[str, int]]) -> int:
    shared = 0
    for (a, tokens), (b, _) in zip(units, previous, strict=False):
        if a != b:
            break
        shared += tokens
    return shared


def run_operation(api: str, tasks: int) -> list[dict[str, Any]]:
    """Run the planned operation over `api`; one row of figures per orchestrator request."""
    script = _script(tasks)
    mt.use_script(script)
    providers: dict[str, Any] = {}
    if api != "chat":
        providers = {"responses_api": ["scripted:gpt-5"], "responses_store": api == "responses+store"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(tasks):
            (root / f"mod{i}.py").write_text(f"def f{i}():\n    return {i}\n")
        settings = EngineSettings(
            project_root=root,
            orchestrator_model="scripted:gpt-5",
            executor_model="scripted:deepseek-chat",
            provider_settings=providers,
        )
        bus = EventBus()
        finished: list[Any] = []
        bus.subscribe(lambda e: finished.append(e) if e.type == "LLMCallFinished" and e.role == "orchestrator" else None)
        op = Engine(settings, bus).run("Inspect every module", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    rows, previous = [], []
    served = list(script.responses.served.values())
    stored = script.responses.stored
    for n, request in enumerate(script.requests_for("gpt-5")):
        body = request.body
        if api == "chat":
            sent = _tools_unit(body) + _units_chat(body["messages"])
            context = sent
            output = _units_chat([{"role": "assistant", "content": request.turn.text or None,
                                   "tool_calls": None}])
        else:
            sent = _tools_unit(body) + _units_items(body["input"])
            chain = []
            if body.get("previous_response_id"):
                kept = stored[body["previous_response_id"]]
                chain = _units_items(kept.context) + _units_items(
                    [{**o, "_tokens": kept.reasoning_tokens.get(o["id"], 0)} for o in kept.output]
                )
            context = sent[: len(_tools_unit(body))] + chain + sent[len(_tools_unit(body)) :]
            output = _units_items(served[n])
        context = _rendered(context)
        counted = sum(t for _, t in context)
        billed = finished[n].usage.input_tokens  # what the server reported
        share = _prefix_tokens(context, previous) / counted if counted else 0.0
        # OpenAI caches prompts of 1,024+ tokens, in steps of 128 tokens
        cached = int(share * billed) // 128 * 128 if billed >= 1024 else 0
        rows.append(
            {
                "turn": n + 1,
                "sent": sum(t for _, t in sent),
                "billed": billed,
                "carried": sum(t for u, t in context if u.startswith("reasoning:")),
                "cache_eligible": share,
                "input_usd": (billed - cached) * GPT5_INPUT + cached * GPT5_CACHED,
            }
        )
        previous = context + output
    mt.use_script(None)
    return rows


def cancel_latency(api: str, repeats: int) -> list[float]:
    """Seconds from cancel to the call returning, mid-stream, over a real HTTP server."""
    out = []
    for _ in range(repeats):
        turn = {"text": "streaming then silence " * 4, "fault": "stall", "stall_seconds": 60, "after_chunks": 9}
        script = mt.Script({"gpt-5": [turn]})
        with mt.ScriptedServer(script) as server:
            kind = OpenAIResponsesModel if api == "responses" else OpenAICompatibleModel
            model = kind("openai", "gpt-5", base_url=server.base_url, timeouts=Timeouts(read=120))
            token, first = CancelToken(), threading.Event()
            stamp: dict[str, float] = {}

            def cancel_soon(token: CancelToken = token, first: threading.Event = first, stamp=stamp) -> None:
                first.wait(10)
                time.sleep(0.2)
                stamp["at"] = time.monotonic()
                token.cancel()

            threading.Thread(target=cancel_soon, daemon=True).start()
            try:
                model.chat([{"role": "user", "content": "go"}], on_text=lambda _, f=first: f.set(), cancel=token)
            except ModelCallCancelled:
                out.append(time.monotonic() - stamp["at"])
    return out


def main() -> None:
    """Print the per-turn table for each API, the totals, and cancel latencies."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--cancel-repeats", type=int, default=5)
    args = parser.parse_args()
    totals = {}
    for api in ("chat", "responses", "responses+store"):
        rows = run_operation(api, args.tasks)
        print(f"\n{api}: {len(rows)} orchestrator requests")
        print(f"{'turn':>4} {'sent':>7} {'billed':>7} {'carried':>8} {'cache-eligible':>15}")
        for r in rows:
            print(f"{r['turn']:>4} {r['sent']:>7,} {r['billed']:>7,} {r['carried']:>8,} {r['cache_eligible']:>14.0%}")
        sent = sum(r["sent"] for r in rows)
        billed = sum(r["billed"] for r in rows)
        eligible = sum(r["cache_eligible"] * r["billed"] for r in rows) / billed
        usd = sum(r["input_usd"] for r in rows)
        totals[api] = (sent, billed, sum(r["carried"] for r in rows), eligible, usd)
    print("\ntotals per operation: input tokens sent / billed, reasoning carried, cache-eligible share,")
    print("and the input's cost at gpt-5 prices if the eligible prefix is served from the cache")
    for api, (sent, billed, carried, eligible, usd) in totals.items():
        print(f"  {api:<16} sent {sent:>7,}  billed {billed:>7,}  carried {carried:>6,}  "
              f"cache-eligible {eligible:.0%}  input ${usd:.5f}")
    if args.cancel_repeats:
        print("\ncancel mid-stream to return (target < 1 s), real HTTP server:")
        for api in ("chat", "responses"):
            times = cancel_latency(api, args.cancel_repeats)
            print(f"  {api:<10} median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                  f"({len(times)} runs)")


if __name__ == "__main__":
    main()
