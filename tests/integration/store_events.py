"""Hand-built engine events for the store tests (shared by the tests and their child processes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mira_jupyter.core.events import (
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

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
D = Decimal

# Two calls with hand-picked numbers; expected sums are computed in the tests by hand.
ORCH_USAGE = Usage(
    input_tokens=1000, cached_input_tokens=400, output_tokens=300, reasoning_tokens=120
)
ORCH_COST = Cost(
    input_usd=D("0.000750"),
    cached_input_usd=D("0.000050"),
    output_usd=D("0.003000"),
    price_version="2026-11",
)
EXEC_USAGE = Usage(
    input_tokens=5000, cached_input_tokens=1000, output_tokens=800, reasoning_tokens=0
)
EXEC_COST = Cost(
    input_usd=D("0.001080"),
    cached_input_usd=D("0.000070"),
    output_usd=D("0.000880"),
    price_version="2026-11",
)
EXEC_AS_ORCH = D("0.013125")  # what the executor's tokens would have cost at orchestrator prices


def full_operation(
    op: str, session_id: str, start: datetime = BASE, skill: str | None = None
) -> list[Event]:
    """A planned operation: plan, two tasks (one fails), two LLM calls, three tool calls,
    streamed text, a file change and the finish. Events are not numbered (seq=0)."""
    t = start
    step = timedelta(seconds=1)

    def at(k: int) -> datetime:
        return t + k * step

    return [
        OperationStarted(
            operation_id=op,
            ts=at(0),
            session_id=session_id,
            request=f"Fix the CSV loader ({op})",
            # the engine runs an operation with --skill in skill mode, never planned
            mode="skill" if skill else "planned",
            requested_mode="auto",
            skill=skill,
            reasoning="high",
            orchestrator_model="openai:gpt-5",
            executor_model="deepseek:deepseek-chat",
            project_root="/proj",
            complexity_score=0.35,
            complexity_reasons=["multi-step", "tests"],
            budget_usd=D("0.50"),
        ),
        PlanGenerated(
            operation_id=op,
            ts=at(2),
            plan_text="1. Read loader\n2. Fix it",
            source="parsed",
            started_at=at(1),
            input_tokens=200,
            output_tokens=90,
            reasoning_tokens=40,
            estimated_cost_usd=D("0.001"),
        ),
        TaskCreated(
            operation_id=op,
            ts=at(2),
            task_id=f"{op}-t1",
            sequence=1,
            description="Read loader",
            active_form="Reading loader",
        ),
        TaskCreated(
            operation_id=op,
            ts=at(2),
            task_id=f"{op}-t2",
            sequence=2,
            description="Fix it",
            active_form="Fixing it",
        ),
        TaskStarted(operation_id=op, ts=at(3), task_id=f"{op}-t1"),
        LLMCallStarted(
            operation_id=op,
            ts=at(3),
            call_id=f"{op}-c1",
            task_id=f"{op}-t1",
            role="orchestrator",
            provider="openai",
            model="gpt-5",
            reasoning_effort="high",
            purpose="orchestrate",
        ),
        LLMCallFinished(
            operation_id=op,
            ts=at(5),
            call_id=f"{op}-c1",
            task_id=f"{op}-t1",
            role="orchestrator",
            provider="openai",
            model="gpt-5",
            reasoning_effort="high",
            purpose="orchestrate",
            started_at=at(3),
            latency_ms=2000.0,
            ttft_ms=350.0,
            usage=ORCH_USAGE,
            cost=ORCH_COST,
            finish_reason="tool_calls",
        ),
        ToolCallStarted(
            operation_id=op,
            ts=at(5),
            tool_call_id=f"{op}-x1",
            llm_call_id=f"{op}-c1",
            task_id=f"{op}-t1",
            role="orchestrator",
            tool="read_project_file",
            arguments={"path": "loader.py"},
        ),
        LLMCallStarted(
            operation_id=op,
            ts=at(5),
            call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            provider="deepseek",
            model="deepseek-chat",
            purpose=f"skill:{skill}" if skill else "delegate:read_project_file",
        ),
        ToolCallStarted(
            operation_id=op,
            ts=at(6),
            tool_call_id=f"{op}-x2",
            llm_call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            tool="read_file",
            arguments={"path": "loader.py"},
        ),
        ToolCallFinished(
            operation_id=op,
            ts=at(6),
            tool_call_id=f"{op}-x2",
            llm_call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            tool="read_file",
            status="ok",
            duration_ms=12.5,
            result_bytes=2048,
            truncated=True,
            summary="read 80 lines",
        ),
        ToolCallStarted(
            operation_id=op,
            ts=at(6),
            tool_call_id=f"{op}-x3",
            llm_call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            tool="read_file",
            arguments='{"path": "../etc/passwd"',
        ),
        ToolCallFinished(
            operation_id=op,
            ts=at(6),
            tool_call_id=f"{op}-x3",
            llm_call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            tool="read_file",
            status="denied",
            denial_reason="outside_root",
            duration_ms=0.5,
        ),
        LLMCallFinished(
            operation_id=op,
            ts=at(8),
            call_id=f"{op}-c2",
            task_id=f"{op}-t1",
            role="executor",
            provider="deepseek",
            model="deepseek-chat",
            purpose=f"skill:{skill}" if skill else "delegate:read_project_file",
            started_at=at(5),
            latency_ms=3000.0,
            ttft_ms=500.0,
            usage=EXEC_USAGE,
            cost=EXEC_COST,
            orchestrator_equivalent_usd=EXEC_AS_ORCH,
            finish_reason="stop",
        ),
        ToolCallFinished(
            operation_id=op,
            ts=at(8),
            tool_call_id=f"{op}-x1",
            llm_call_id=f"{op}-c1",
            task_id=f"{op}-t1",
            role="orchestrator",
            tool="read_project_file",
            status="ok",
            duration_ms=3000.0,
            result_bytes=300,
        ),
        TaskCompleted(operation_id=op, ts=at(9), task_id=f"{op}-t1", note="read it"),
        TaskStarted(operation_id=op, ts=at(9), task_id=f"{op}-t2"),
        FileChanged(
            operation_id=op,
            ts=at(10),
            path="loader.py",
            existed_before=True,
            previous_content=b"old\x00content\n",
            previous_sha256="a" * 64,
            new_sha256="b" * 64,
            tool_call_id=f"{op}-x2",
        ),
        TaskFailed(operation_id=op, ts=at(10), task_id=f"{op}-t2", error="tests still fail"),
        Notice(operation_id=op, ts=at(10), level="warning", message="executor turn cap reached"),
        *[TextDelta(operation_id=op, ts=at(11), text=f"part{i} ") for i in range(5)],
        OperationFinished(
            operation_id=op,
            ts=at(12),
            status="failed",
            result_text="Loader fixed but TESTS fail",
            error="task 2 failed",
            usage=ORCH_USAGE + EXEC_USAGE,
            cost=ORCH_COST + EXEC_COST,
            routing_savings_usd=EXEC_AS_ORCH - EXEC_COST.total_usd,
        ),
    ]


def numbered(events: list[Event]) -> list[Event]:
    """Number events 1..n as the bus would."""
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events
