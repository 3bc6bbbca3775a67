"""What recording an event costs: on the engine's thread, and for the batched DuckDB write.

Run from the repository root:  python benchmarks/recorder_write_cost.py [--ops N]
Three measurements. Two event mixes, fed without flushing and then written in batches of
500: "operation" (a planned operation: plan, tasks, LLM and tool calls, a file
change, 5 text deltas; 26 events) and "streaming" (an operation streaming 500 text deltas,
which the recorder coalesces into one row). Third: a flush after every operation, which is
what a %%mira cell does when it ends.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mira_jupyter.core.events import (  # noqa: E402
    Cost,
    Event,
    FileChanged,
    LLMCallFinished,
    LLMCallStarted,
    OperationFinished,
    OperationStarted,
    PlanGenerated,
    TaskCompleted,
    TaskCreated,
    TaskStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from mira_jupyter.store.recorder import Recorder  # noqa: E402
from mira_jupyter.store.session import SessionInfo  # noqa: E402


def operation(op: str, deltas: int) -> list[Event]:
    """One planned operation with `deltas` streamed text chunks."""
    now = datetime.now(UTC)
    usage = Usage(
        input_tokens=1200, cached_input_tokens=400, output_tokens=300, reasoning_tokens=90
    )
    cost = Cost(
        input_usd=Decimal("0.001"),
        cached_input_usd=Decimal("0.00005"),
        output_usd=Decimal("0.003"),
        price_version="2026-11",
    )
    events: list[Event] = [
        OperationStarted(
            operation_id=op,
            session_id="bench",
            request="Fix the loader " * 5,
            mode="planned",
            orchestrator_model="openai:gpt-5",
            executor_model="deepseek:deepseek-chat",
            project_root="/proj",
        ),
        PlanGenerated(
            operation_id=op,
            plan_text="1. Read\n2. Fix\n3. Test",
            started_at=now,
            input_tokens=300,
            output_tokens=120,
        ),
    ]
    for t in range(3):
        task = f"{op}-t{t}"
        call = f"{op}-c{t}"
        events += [
            TaskCreated(
                operation_id=op,
                task_id=task,
                sequence=t + 1,
                description=f"Task {t}",
                active_form=f"Doing task {t}",
            ),
            TaskStarted(operation_id=op, task_id=task),
            LLMCallStarted(
                operation_id=op,
                call_id=call,
                task_id=task,
                role="executor",
                provider="deepseek",
                model="deepseek-chat",
            ),
            ToolCallStarted(
                operation_id=op,
                tool_call_id=f"{call}-x",
                llm_call_id=call,
                task_id=task,
                role="executor",
                tool="read_file",
                arguments={"path": "src/loader.py", "start": 1, "end": 200},
            ),
            ToolCallFinished(
                operation_id=op,
                tool_call_id=f"{call}-x",
                llm_call_id=call,
                task_id=task,
                role="executor",
                tool="read_file",
                status="ok",
                duration_ms=3.2,
                result_bytes=8000,
            ),
            LLMCallFinished(
                operation_id=op,
                call_id=call,
                task_id=task,
                role="executor",
                provider="deepseek",
                model="deepseek-chat",
                started_at=now,
                latency_ms=1500.0,
                usage=usage,
                cost=cost,
                orchestrator_equivalent_usd=Decimal("0.01"),
            ),
            TaskCompleted(operation_id=op, task_id=task),
        ]
    events.append(
        FileChanged(
            operation_id=op,
            path="src/loader.py",
            existed_before=True,
            previous_content=b"x" * 4000,
            new_sha256="b" * 64,
        )
    )
    events += [TextDelta(operation_id=op, text="some streamed words ") for _ in range(deltas)]
    events.append(
        OperationFinished(
            operation_id=op, status="completed", result_text="done", usage=usage, cost=cost
        )
    )
    return events


def run(location: str | Path, ops: int, deltas: int) -> tuple[int, float, float]:
    """Feed `ops` operations; return (events, µs/event on the caller, µs/event written)."""
    # a long interval and a huge batch: nothing is written until flush(), so the two
    # costs are measured apart
    recorder = Recorder(
        location, SessionInfo.current("/proj", "bench"), flush_interval=3600, batch_size=1_000_000
    )
    recorder.flush()  # schema, journal: one-off costs outside the measurement
    recorder._batch_size = 500
    batches = [operation(f"op{i}", deltas) for i in range(ops)]
    events = sum(len(b) for b in batches)
    started = time.perf_counter()
    for batch in batches:
        for event in batch[:-1]:  # the finish would trigger a write; send those later
            recorder(event)
    call_s = time.perf_counter() - started
    started = time.perf_counter()
    for batch in batches:
        recorder(batch[-1])
    call_s += time.perf_counter() - started
    started = time.perf_counter()
    assert recorder.flush(timeout=600)
    write_s = time.perf_counter() - started
    assert recorder.close()
    return events, call_s / events * 1e6, write_s / events * 1e6


def per_operation(location: str | Path, ops: int) -> tuple[float, float]:
    """Flush after every operation, as a cell does; return (ms per flush, µs/event)."""
    recorder = Recorder(location, SessionInfo.current("/proj", "bench"), flush_interval=3600)
    recorder.flush()
    batches = [operation(f"op{i}", 5) for i in range(ops)]
    events = sum(len(b) for b in batches)
    started = time.perf_counter()
    for batch in batches:
        for event in batch:
            recorder(event)
        assert recorder.flush(timeout=60)
    elapsed = time.perf_counter() - started
    assert recorder.close()
    return elapsed / ops * 1000, elapsed / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()
    import duckdb

    print(
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"python {platform.python_version()}, duckdb {duckdb.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, deltas, ops in (("operation", 5, args.ops), ("streaming", 500, args.ops // 10)):
            for label, location in (
                ("file + journal", Path(tmp) / f"{name}.duckdb"),
                ("memory, no journal", f":memory:{name}"),
            ):
                events, call_us, write_us = run(location, ops, deltas)
                print(
                    f"{name:9} x{ops:4} ops = {events:6} events  {label:18}  "
                    f"recorder(event) {call_us:6.1f} µs/event   "
                    f"DB write in 500-event batches {write_us:6.1f} µs/event"
                )
        flush_ms, flush_us = per_operation(Path(tmp) / "cells.duckdb", 50)
        print(
            f"one 26-event operation per flush (file + journal, open/write/close each time): "
            f"{flush_ms:.1f} ms per flush = {flush_us:.0f} µs/event"
        )


if __name__ == "__main__":
    main()
