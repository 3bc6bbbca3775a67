"""A scripted event sequence of one planned operation, for view tests, demos and benchmarks.

The events are what the engine would emit, with fixed ids and timestamps so that every
rendering of them is reproducible.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..core.events import (
    Cost,
    Event,
    FileChanged,
    LLMCallFinished,
    LLMCallStarted,
    Notice,
    OperationFinished,
    OperationStarted,
    PlanGenerated,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)

DEMO_OP = "op_0000000000demo01"
T0 = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)

ANSWER = (
    "## Fixed the CSV loader\n\n"
    "Rows with an empty `date` were dropped by `parse_dates`. The loader now keeps them "
    "as `NaT`:\n\n```python\ndf = pd.read_csv(path, parse_dates=['date'], keep_default_na=True)\n```\n\n"
    "- added `tests/test_loader.py::test_empty_dates`\n- **all tests pass**\n"
)

# the demo's one write: the loader before and after the fix the answer describes
LOADER_BEFORE = (
    b"import pandas as pd\n\n\ndef load(path):\n"
    b"    df = pd.read_csv(path, parse_dates=['date'])\n"
    b"    return df.dropna(subset=['date'])\n"
)
LOADER_AFTER = (
    b"import pandas as pd\n\n\ndef load(path):\n"
    b"    df = pd.read_csv(path, parse_dates=['date'], keep_default_na=True)\n"
    b"    return df\n"
)


class _Clock:
    """Hands out increasing timestamps and sequence numbers."""

    def __init__(self, op: str) -> None:
        self.op = op
        self.seq = 0
        self.t = T0

    def tick(self, ms: float = 10) -> dict:
        self.seq += 1
        self.t += timedelta(milliseconds=ms)
        return {"operation_id": self.op, "seq": self.seq, "ts": self.t}


def _call(c: _Clock, call_id: str, role: str, model: str, usage: Usage, cost: Cost, **kw) -> Event:
    started = c.t
    return LLMCallFinished(
        **c.tick(800),
        call_id=call_id,
        role=role,
        provider=model.split(":")[0],
        model=model.split(":")[1],
        started_at=started,
        latency_ms=800,
        usage=usage,
        cost=cost,
        **kw,
    )


def planned_operation(
    n_tasks: int = 5,
    *,
    answer: str = ANSWER,
    deltas: int = 0,
    fail_task: int | None = None,
    finish: bool = True,
    operation_id: str = DEMO_OP,
) -> list[Event]:
    """Events of a planned operation with `n_tasks` tasks, tool calls (one denied) and an answer.

    `deltas` splits the answer into that many TextDelta events (0: one per line);
    `fail_task` (1-based) makes that task fail; `finish=False` leaves out OperationFinished.
    """
    c = _Clock(operation_id)
    orch, execu = "openai:gpt-5", "deepseek:deepseek-chat"
    events: list[Event] = [
        OperationStarted(
            **c.tick(0),
            session_id="ses_demo",
            request="Find where the CSV loader drops rows with empty dates and fix it; add a test.",
            mode="planned",
            orchestrator_model=orch,
            executor_model=execu,
            project_root="/project",
            complexity_score=0.31,
            complexity_reasons=["mentions a fix and a test", "touches several files"],
        ),
        LLMCallStarted(
            **c.tick(),
            call_id="call_plan",
            role="orchestrator",
            provider="openai",
            model="gpt-5",
            purpose="plan",
        ),
    ]
    plan_lines = [f"{i}. Step {i} of the fix" for i in range(1, n_tasks + 1)]
    plan = "Plan to fix the loader:\n\n" + "\n".join(plan_lines)
    events.append(
        _call(
            c,
            "call_plan",
            "orchestrator",
            orch,
            Usage(
                input_tokens=1200, cached_input_tokens=200, output_tokens=400, reasoning_tokens=250
            ),
            Cost(
                input_usd=Decimal("0.00125"),
                cached_input_usd=Decimal("0.000025"),
                output_usd=Decimal("0.004"),
            ),
        )
    )
    events.append(
        PlanGenerated(
            **c.tick(), plan_text=plan, started_at=T0, input_tokens=1200, output_tokens=400
        )
    )
    for i in range(1, n_tasks + 1):
        events.append(
            TaskCreated(
                **c.tick(1),
                task_id=f"task_{i:02d}",
                sequence=i,
                description=f"Step {i} of the fix",
                active_form=f"Working on step {i}",
            )
        )
    for i in range(1, n_tasks + 1):
        tid = f"task_{i:02d}"
        events.append(TaskStarted(**c.tick(), task_id=tid))
        tool_id = f"tc_{i:02d}"
        events.append(
            ToolCallStarted(
                **c.tick(),
                tool_call_id=tool_id,
                task_id=tid,
                role="executor",
                tool="read_file",
                arguments={"path": f"src/module_{i}.py"},
            )
        )
        events.append(
            ToolCallFinished(
                **c.tick(12),
                tool_call_id=tool_id,
                task_id=tid,
                role="executor",
                tool="read_file",
                status="ok",
                duration_ms=12,
                result_bytes=2048,
                summary=f"{40 + i} lines",
            )
        )
        if i == 2:
            events.append(
                ToolCallStarted(
                    **c.tick(),
                    tool_call_id="tc_denied",
                    task_id=tid,
                    role="executor",
                    tool="write_file",
                    arguments={"path": "../etc/passwd"},
                )
            )
            events.append(
                ToolCallFinished(
                    **c.tick(1),
                    tool_call_id="tc_denied",
                    task_id=tid,
                    role="executor",
                    tool="write_file",
                    status="denied",
                    duration_ms=0.4,
                    denial_reason="path escapes the project root",
                )
            )
        if i == n_tasks:
            events.append(
                FileChanged(
                    **c.tick(),
                    path="src/loader.py",
                    existed_before=True,
                    tool_call_id=tool_id,
                    # the bytes a real write carries: the card shows a modification and its diff
                    previous_content=LOADER_BEFORE,
                    previous_sha256=hashlib.sha256(LOADER_BEFORE).hexdigest(),
                    new_content=LOADER_AFTER,
                    new_sha256=hashlib.sha256(LOADER_AFTER).hexdigest(),
                )
            )
        events.append(
            _call(
                c,
                f"call_x{i}",
                "executor",
                execu,
                Usage(input_tokens=3000, cached_input_tokens=1000, output_tokens=500),
                Cost(
                    input_usd=Decimal("0.00054"),
                    cached_input_usd=Decimal("0.00007"),
                    output_usd=Decimal("0.00055"),
                ),
                orchestrator_equivalent_usd=Decimal("0.0078"),
            )
        )
        if fail_task == i:
            events.append(TaskFailed(**c.tick(300), task_id=tid, error="tests still fail: 1 error"))
        else:
            events.append(TaskCompleted(**c.tick(300), task_id=tid))
    chunks = answer.splitlines(keepends=True) if deltas <= 0 else _split(answer, deltas)
    events += [TextDelta(**c.tick(1), text=chunk) for chunk in chunks]
    if finish:
        status = "failed" if fail_task else "completed"
        events.append(
            OperationFinished(
                **c.tick(),
                status=status,
                result_text=answer,
                error="task failed" if fail_task else None,
                routing_savings_usd=(Decimal("0.0078") - Decimal("0.00116")) * n_tasks,
            )
        )
    return events


def _split(text: str, parts: int) -> list[str]:
    """`parts` chunks of `text` (some possibly empty when the text is short)."""
    size, extra = divmod(len(text), parts)
    chunks, pos = [], 0
    for i in range(parts):
        end = pos + size + (1 if i < extra else 0)
        chunks.append(text[pos:end])
        pos = end
    return chunks


def stopped_operation(n_tasks: int = 4, *, stop_in: int = 2, operation_id: str = DEMO_OP) -> list[Event]:
    """Events of a planned operation stopped with the Stop button during task `stop_in`.

    The engine closes the running task and the ones that never started with its settle
    reason, and says the stop reason once, in OperationFinished; a warning notice comes too.
    """
    every = planned_operation(n_tasks, finish=False, operation_id=operation_id)
    stop_at = next(
        i for i, e in enumerate(every) if e.type == "TaskStarted" and e.task_id == f"task_{stop_in:02d}"
    )
    events = every[: stop_at + 3]  # the task's first tool call ran
    c = _Clock(operation_id)
    c.t, c.seq = events[-1].ts + timedelta(milliseconds=400), events[-1].seq
    events.append(Notice(**c.tick(1), level="warning", message="the executor's reply was cut at its output cap"))
    for i in range(stop_in, n_tasks + 1):
        events.append(TaskFailed(**c.tick(1), task_id=f"task_{i:02d}", error="cancelled by user"))
    events.append(
        OperationFinished(**c.tick(), status="cancelled", error="stopped with the Stop button")
    )
    return events


def plan_only_operation(n_tasks: int = 3, *, operation_id: str = DEMO_OP) -> list[Event]:
    """Events of a ``--plan-only`` operation: started, planned, tasks created, status planned."""
    events = planned_operation(n_tasks, finish=False, operation_id=operation_id)
    started = events[0].model_copy(update={"plan_only": True})
    kept = ("LLMCallStarted", "LLMCallFinished", "PlanGenerated", "TaskCreated")
    planning = [
        e
        for e in events[1:]
        if e.type in kept and getattr(e, "role", "orchestrator") == "orchestrator"
    ]
    last = planning[-1]
    finished = OperationFinished(
        operation_id=operation_id,
        seq=last.seq + 1,
        ts=last.ts + timedelta(milliseconds=5),
        status="planned",
    )
    return [started, *planning, finished]


def uncertain_cost_operation(*, operation_id: str = DEMO_OP) -> list[Event]:
    """A simple operation whose orchestrator call was cut (cost known only as "at most"),
    an executor call on a model without a price, and routing savings below zero."""
    c = _Clock(operation_id)
    orch, execu = "openai:gpt-5-nano", "ollama:qwen2.5-coder:14b"
    events: list[Event] = [
        OperationStarted(
            **c.tick(0),
            session_id="ses_demo",
            request="Why does the loader drop rows?",
            mode="planned",
            orchestrator_model=orch,
            executor_model=execu,
            project_root="/project",
            budget_usd=Decimal("0.50"),
        )
    ]
    events.append(
        _call(
            c,
            "call_cut",
            "orchestrator",
            orch,
            Usage(input_tokens=2_000, output_tokens=40, output_tokens_upper=17_408, source="estimated"),
            Cost(input_usd=Decimal("0.0001"), output_usd=Decimal("0.000016"), upper_usd=Decimal("0.0071"), price_version="demo"),
            status="error",
            error="the stream from openai:gpt-5-nano was cut off before it finished",
        )
    )
    events.append(
        _call(
            c,
            "call_local",
            "executor",
            execu,
            Usage(input_tokens=1_500, output_tokens=300),
            Cost(price_version="demo", priced=False),
        )
    )
    events.append(
        _call(
            c,
            "call_dear",
            "executor",
            "openai:gpt-5",
            Usage(input_tokens=1_000, output_tokens=200),
            Cost(input_usd=Decimal("0.00125"), output_usd=Decimal("0.002"), price_version="demo"),
            orchestrator_equivalent_usd=Decimal("0.00013"),
        )
    )
    events.append(
        OperationFinished(
            **c.tick(),
            status="completed",
            result_text="",
            routing_savings_usd=Decimal("0.00013") - Decimal("0.00325"),
        )
    )
    return events
