"""Engine overhead per model turn, DuckDB logging included, with the scripted model at zero latency.

One planned operation whose single task makes N orchestrator turns (each a tool call the
engine dispatches, logs and answers). The time inside the model client (openai SDK parsing
plus the in-process scripted transport) is measured per call from the LLMCallFinished
events and subtracted; what remains is the engine: events, bus, dispatch, task tracking,
cost accounting and the recorder (whose final flush to a real DuckDB file is included).

Usage: python benchmarks/engine_overhead.py [--turns 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo


def one_run(turns: int, root: Path) -> tuple[float, float, int]:
    """Returns (wall ms, ms inside the model client, model turns)."""
    update = {"tool_calls": [{"name": "update_tasks", "arguments": {"updates": [{"task": 1, "status": "in_progress"}]}}]}
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [{"description": "Spin", "active_form": "Spinning"}]}}]}
    script = mt.Script({"gpt-5": [plan, {**update, "repeat": turns}, "done", "answer"]})
    mt.use_script(script)
    bus = EventBus()
    finished = []
    bus.subscribe(lambda e: finished.append(e) if e.type == "LLMCallFinished" else None)
    recorder = Recorder(str(root / "log.duckdb"), SessionInfo.current(str(root)))
    bus.subscribe(recorder)
    settings = EngineSettings(
        project_root=root,
        orchestrator_model="scripted:gpt-5",
        executor_model="scripted:deepseek-chat",
        max_orchestrator_turns=turns + 2,
    )
    engine = Engine(settings, bus)
    start = time.perf_counter()
    op = engine.run("spin", RunOptions(mode="planned"))
    recorder.flush()
    wall = (time.perf_counter() - start) * 1000
    recorder.close()
    assert op.status == "completed", op.error
    return wall, sum(e.latency_ms for e in finished), len(finished)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    per_turn_overhead, per_turn_total, per_turn_client = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            wall, client, calls = one_run(args.turns, Path(tmp))
        per_turn_total.append(wall / calls)
        per_turn_client.append(client / calls)
        per_turn_overhead.append((wall - client) / calls)
    print(f"{args.turns}-turn operation, {args.repeats} runs, per model turn (median):")
    print(f"  whole stack          {statistics.median(per_turn_total):.2f} ms")
    print(f"  model client (SDK)   {statistics.median(per_turn_client):.2f} ms")
    print(f"  engine overhead      {statistics.median(per_turn_overhead):.2f} ms   (target <= 3 ms)")


if __name__ == "__main__":
    main()
