"""Model-call cancel and timeout latency, and the parsers on pathological input.

The test suite only checks that these do not hang (30 s / 15 s bounds, so a loaded machine
cannot fail it); the figures are measured here. For each case, a real
``OpenAICompatibleModel`` talks through the openai SDK to a scripted model, over a real
local HTTP server:

- cancel mid-stream: the token is cancelled 0.2 s after the first text; time to the
  ``ModelCallCancelled``. Target < 1 s.
- cancel before headers: the server stalls before answering; cancelled after 0.3 s.
- cancel during a retry backoff: a 429 asks for a 55 s wait; cancelled once it was sent.
- timeout before headers: read timeout 0.3 s; time from the call to ``ModelTimeoutError``.
- ``score_request`` and ``parse_plan`` on the suite's pathological inputs (max over inputs).

Usage: python benchmarks/cancel_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.llm.client import OpenAICompatibleModel, Timeouts
from mira_jupyter.llm.types import ModelCallCancelled, ModelTimeoutError
from mira_jupyter.testing import Script, ScriptedServer

KEY_ENV = "MIRA_BENCH_API_KEY"
USER = [{"role": "user", "content": "Say hello."}]


def _model(server: ScriptedServer, read_timeout: float) -> OpenAICompatibleModel:
    return OpenAICompatibleModel(
        "openai",
        "gpt-5",
        base_url=server.base_url,
        key_env=KEY_ENV,
        key_required=True,
        max_tokens_param="max_completion_tokens",
        timeouts=Timeouts(connect=2.0, read=read_timeout),
        max_attempts=3,
        backoff_base=0.01,
        backoff_max=0.05,
    )


def _cancel_after(condition: Callable[[], bool], delay: float, token: CancelToken) -> dict:
    stamp: dict[str, float] = {}

    def run() -> None:
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        stamp["at"] = time.monotonic()
        token.cancel()

    threading.Thread(target=run, daemon=True).start()
    return stamp


def _one(turn: dict, delay: float, wait_for: str, read_timeout: float = 300.0) -> float:
    script = Script({"gpt-5": [turn, "never reached"]})
    server = ScriptedServer(script).start()
    try:
        model = _model(server, read_timeout)
        token = CancelToken()
        first = threading.Event()
        condition = {
            "text": first.is_set,
            "request": lambda: len(script.requests) >= 1,
        }[wait_for]
        stamp = _cancel_after(condition, delay, token)
        try:
            model.chat(USER, on_text=lambda _: first.set(), cancel=token)
        except ModelCallCancelled:
            return time.monotonic() - stamp["at"]
        raise RuntimeError("the call was not cancelled")
    finally:
        server.stop()


def _timeout_before_headers() -> float:
    script = Script(
        {"gpt-5": [{"fault": "stall", "stall_seconds": 120, "stall_before_headers": True}]}
    )
    server = ScriptedServer(script).start()
    try:
        started = time.monotonic()
        try:
            _model(server, 0.3).chat(USER)
        except ModelTimeoutError:
            return time.monotonic() - started
        raise RuntimeError("no timeout")
    finally:
        server.stop()


def _parsers() -> tuple[float, float]:
    from mira_jupyter.engine.complexity import score_request
    from mira_jupyter.engine.plan_parser import parse_plan

    requests = [
        "a/" * 30_000,
        "a." * 30_000 + "py",
        "a." * 30_000 + "()",
        "where is x " * 10_000,
        "`" * 30_000,
        " ".join(f"src/m{i}.py README" for i in range(5_000)),
        "add logging to main.py and " * 3_000,
    ]
    plans = [
        "**a " * 20_000,
        "1. " + "**a** " * 20_000,
        "(" * 50_000,
        "1.1." * 20_000 + " x",
        "- " * 20_000 + "x",
    ]
    worst_request = worst_plan = 0.0
    for text in requests:
        began = time.perf_counter()
        score_request(text)
        worst_request = max(worst_request, time.perf_counter() - began)
    for text in plans:
        began = time.perf_counter()
        parse_plan(text)
        worst_plan = max(worst_plan, time.perf_counter() - began)
    return worst_request, worst_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ[KEY_ENV] = "sk-bench-not-a-real-key"
    cases = {
        "cancel mid-stream": lambda: _one(
            {
                "text": "streaming then silence " * 3,
                "fault": "stall",
                "stall_seconds": 120,
                "after_chunks": 3,
            },
            0.2,
            "text",
        ),
        "cancel before headers": lambda: _one(
            {"fault": "stall", "stall_seconds": 120, "stall_before_headers": True}, 0.3, "request"
        ),
        "cancel during retry backoff": lambda: _one(
            {"fault": "rate_limit", "retry_after": 55}, 0.0, "request"
        ),
        "timeout before headers (0.3 s read timeout)": _timeout_before_headers,
    }
    print(f"{'case':45} {'median':>9} {'max':>9}   (target < 1 s; the suite's bound is 30 s)")
    for name, run in cases.items():
        times = [run() for _ in range(args.repeats)]
        print(f"{name:45} {statistics.median(times) * 1000:7.0f}ms {max(times) * 1000:7.0f}ms")
    worst_request, worst_plan = _parsers()
    print(
        f"{'score_request, worst pathological input':45} {worst_request * 1000:7.1f}ms   (suite bound 15 s)"
    )
    print(
        f"{'parse_plan, worst pathological input':45} {worst_plan * 1000:7.1f}ms   (suite bound 15 s)"
    )


if __name__ == "__main__":
    main()
