"""Three independent reads-only tasks: wall time side by side against one after another.

    .venv/bin/python benchmarks/side_by_side_tasks.py

The real engine runs through the real openai SDK against the scripted model; every
orchestrator turn on a task takes 1.0 s (the responder sleeps before answering). The same
plan of three tasks runs twice: marked `reads_only` (they may run at once) and not marked
(one after another). Measured: from the first task starting to the last one ending, the
median of three runs each.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings

TURN_SECONDS = 1.0
TASKS = 3
RUNS = 3


def _script(reads_only: bool) -> mt.Script:
    def slow_task_turn(request):
        last = request.messages[-1].get("content") or ""
        found = re.search(r"Task (\d+) of \d+:", last if isinstance(last, str) else "")
        if request.model != "gpt-5" or not found:
            return None
        time.sleep(TURN_SECONDS)
        return f"module_{found.group(1)}.py defines load()."

    tasks = [
        {"description": f"Read module_{i}.py", "active_form": f"Reading module_{i}.py", "reads_only": reads_only}
        for i in range(1, TASKS + 1)
    ]
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": tasks}}]}
    return mt.Script({"gpt-5": [plan, "They each define load()."]}, responder=slow_task_turn)


def one_run(reads_only: bool) -> float:
    """Seconds from the first task starting to the last task ending."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mt.use_script(_script(reads_only))
        stamps: list[tuple[str, float]] = []
        bus = EventBus()
        bus.subscribe(
            lambda e: stamps.append((e.type, time.perf_counter()))
            if e.type in ("TaskStarted", "TaskCompleted", "TaskFailed")
            else None
        )
        settings = EngineSettings(
            project_root=root, orchestrator_model="scripted:gpt-5", executor_model="scripted:deepseek-chat"
        )
        op = Engine(settings, bus).run("read every module", RunOptions(mode="planned"))
        if op.status != "completed":
            sys.exit(f"the operation ended {op.status}: {op.error}")
        starts = [t for kind, t in stamps if kind == "TaskStarted"]
        ends = [t for kind, t in stamps if kind != "TaskStarted"]
        return max(ends) - min(starts)


def main() -> None:
    apart = statistics.median(one_run(False) for _ in range(RUNS))
    together = statistics.median(one_run(True) for _ in range(RUNS))
    print(f"orchestrator turn per task: {TURN_SECONDS:.1f} s; {TASKS} tasks; median of {RUNS} runs")
    print(f"one after another (not reads_only): {apart:6.2f} s")
    print(f"side by side (reads_only)         : {together:6.2f} s  = {together / apart:.2f}x")


if __name__ == "__main__":
    main()
