"""How much of each model request a provider's prefix cache could reuse.

OpenAI and DeepSeek cache by exact prefix and bill cached input at about a tenth of the price.
This runs Mira operations through the real engine and openai SDK against the scripted demo
agent (the model the example notebooks use) and looks at every request the server received:
for each model, the share of input tokens that are a prefix shared with that model's previous
request. A request is rendered as the provider sees it — the tool list first, then the
messages in order — and tokenised with o200k_base; the shared prefix is counted in tokens.
The first request of each model in a scenario has nothing before it and is left out of the
share. "billed as" is what all the requests (the first included) cost in input tokens when
the shared prefix is billed at a tenth (OpenAI's and DeepSeek's cached-input discount): a
longer stable prefix can raise the raw input tokens, and this column says whether it pays.

Scenarios (one engine each, the demo project of the notebooks):
  planned        two planned operations, one after the other (a change, then a question)
  conversation   three cells of one conversation: a simple question, a planned change, and
                 a planned follow-up ("now add a test for that")

    .venv/bin/python benchmarks/prompt_prefix.py                       # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/prompt_prefix.py   # baseline

Target (issue 11): at least 85% of input tokens shared with the previous request.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.llm.tokens import get_encoding
from mira_jupyter.testing.agent_demo import agent_demo_script

ORCH, EXEC = "gpt-5", "deepseek-chat"
TARGET = 0.85
CACHED_PRICE = 0.1  # cached input, as a share of the uncached price

PROJECT = {
    "README.md": "# Tiny stats\n\nMean and median helpers, and a report that prints them.\n",
    "stats.py": (
        "def mean(xs):\n    return sum(xs) / len(xs)\n\n\n"
        "def median(xs):\n    s = sorted(xs)\n    n = len(s)\n    mid = n // 2\n"
        "    if n % 2:\n        return s[mid]\n    return (s[mid - 1] + s[mid]) / 2\n"
    ),
    "report.py": "from stats import mean, median\n\n\ndef report(xs):\n"
    "    print(f'mean={mean(xs)} median={median(xs)}')\n",
}

SCENARIOS: dict[str, list[tuple[str, str]]] = {
    "planned": [
        ("add a module docstring to stats.py", "planned"),
        ("find where median is defined in stats.py and explain how it handles even lengths", "planned"),
    ],
    "conversation": [
        ("what does this project do?", "simple"),
        ("add a module docstring to stats.py", "planned"),
        ("now add a test for median in test_stats.py", "planned"),
    ],
}


def rendered(body: dict[str, Any]) -> str:
    """The request as a prefix cache sees it: tools, then each message in order."""
    parts = [json.dumps(body.get("tools") or [], ensure_ascii=False, separators=(",", ":"))]
    items = body.get("messages") if "messages" in body else body.get("input") or []
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for item in items:
        parts.append(json.dumps(item, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    if body.get("instructions"):
        parts.insert(1, str(body["instructions"]))
    return "\n".join(parts)


def shared_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def run_scenario(cells: list[tuple[str, str]]) -> dict[str, tuple[int, int, int, float]]:
    """Run the cells on one engine; per model: requests counted, their input tokens, the
    shared prefix tokens, and all requests' input billed with the prefix at a tenth."""
    script = agent_demo_script()
    mt.use_script(script)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in PROJECT.items():
            (root / name).write_text(text)
        engine = Engine(
            EngineSettings(
                project_root=root,
                orchestrator_model=f"scripted:{ORCH}",
                executor_model=f"scripted:{EXEC}",
            ),
            EventBus(),
        )
        for request, mode in cells:
            op = engine.run(request, RunOptions(mode=mode))
            if op.status != "completed":
                raise SystemExit(f"{request!r} ended {op.status}: {op.error}")
    encoding = get_encoding()
    out: dict[str, tuple[int, int, int, float]] = {}
    for model in (ORCH, EXEC):
        previous: list[int] | None = None
        counted = total = shared = 0
        billed = 0.0
        for record in script.requests_for(model):
            tokens = encoding.encode(rendered(record.body), disallowed_special=())
            if previous is None:
                billed += len(tokens)
            else:
                common = shared_prefix(previous, tokens)
                counted += 1
                total += len(tokens)
                shared += common
                billed += len(tokens) - common + common * CACHED_PRICE
            previous = tokens
        out[model] = (counted, total, shared, billed)
    return out


def main() -> int:
    """Print the shared-prefix share per scenario and model, and overall."""
    head = f"{'scenario':<14}{'model':<16}{'requests':>9}{'input tok':>11}{'shared':>9}{'share':>8}"
    print(head + f"{'billed as':>11}")
    overall: dict[str, list[float]] = {}

    def row(name: str, model: str, counted: float, total: float, shared: float, billed: float) -> float:
        share = shared / total if total else 0.0
        print(
            f"{name:<14}{model:<16}{counted:>9.0f}{total:>11,.0f}{shared:>9,.0f}{share:>8.1%}"
            f"{billed:>11,.0f}"
        )
        return share

    for name, cells in SCENARIOS.items():
        for model, numbers in run_scenario(cells).items():
            sums = overall.setdefault(model, [0, 0, 0, 0.0])
            for i, value in enumerate(numbers):
                sums[i] += value
            row(name, model, *numbers)
    worst = 1.0
    for model, sums in overall.items():
        worst = min(worst, row("all", model, *sums))
    print(f"worst model share {worst:.1%} (target {TARGET:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
