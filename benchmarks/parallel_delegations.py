"""One orchestrator turn of N independent reads: wall time against one read.

    .venv/bin/python benchmarks/parallel_delegations.py                       # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/parallel_delegations.py

The real engine runs through the real openai SDK against the scripted model; every
executor turn takes 1.5 s (the responder sleeps before answering), the orchestrator
answers at once. A planned operation has one task whose first orchestrator turn issues N
``read_project_file`` calls together. Measured: from the first of those calls starting to
the last finishing, for N = 1 and N = 4, three runs each (the median is printed).
Target (issue 14): N = 4 takes at most 1.3x N = 1; run one after another it is about 4x.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings

EXECUTOR_TURN_SECONDS = 1.5
RUNS = 3


def _script(reads: int) -> mt.Script:
    def slow_executor(request):
        if request.model != "deepseek-chat":
            return None
        time.sleep(EXECUTOR_TURN_SECONDS)
        return "module_x.py: one function, load()."

    calls = [
        {"name": "read_project_file", "arguments": {"paths": [f"module_{i}.py"], "purpose": "what it does"}}
        for i in range(reads)
    ]
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
        {"description": "Read the modules", "active_form": "Reading the modules"}]}}]}  # fmt: skip
    return mt.Script(
        {"gpt-5": [plan, {"tool_calls": calls}, "Read them all.", "They each define load()."]},
        responder=slow_executor,
    )


def one_run(reads: int) -> float:
    """Seconds from the first read starting to the last read finishing."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(reads):
            (root / f"module_{i}.py").write_text("def load():\n    return 1\n")
        mt.use_script(_script(reads))
        stamps: list[tuple[str, float]] = []
        bus = EventBus()
        bus.subscribe(
            lambda e: stamps.append((e.type, time.perf_counter()))
            if e.type in ("ToolCallStarted", "ToolCallFinished") and getattr(e, "tool", "") == "read_project_file"
            else None
        )
        settings = EngineSettings(
            project_root=root, orchestrator_model="scripted:gpt-5", executor_model="scripted:deepseek-chat"
        )
        op = Engine(settings, bus).run("read every module", RunOptions(mode="planned"))
        if op.status != "completed":
            sys.exit(f"the operation ended {op.status}: {op.error}")
        starts = [t for kind, t in stamps if kind == "ToolCallStarted"]
        ends = [t for kind, t in stamps if kind == "ToolCallFinished"]
        assert len(starts) == len(ends) == reads, stamps
        return max(ends) - min(starts)


def main() -> None:
    one = statistics.median(one_run(1) for _ in range(RUNS))
    four = statistics.median(one_run(4) for _ in range(RUNS))
    print(f"executor turn: {EXECUTOR_TURN_SECONDS:.1f} s; median of {RUNS} runs")
    print(f"1 read : {one:6.2f} s")
    print(f"4 reads: {four:6.2f} s  = {four / one:.2f}x one read (target <= 1.30x)")


if __name__ == "__main__":
    main()
