"""OperationState: folding events, rebuilding from stored JSON, cost arithmetic by role."""

from __future__ import annotations

import random
from decimal import Decimal

from mira_jupyter.core.events import (
    Cost,
    LLMCallFinished,
    ModeChanged,
    Notice,
    OperationFinished,
    OperationResumed,
    TaskStarted,
    TextDelta,
    ToolCallFinished,
    Usage,
)
from mira_jupyter.ui.demo import DEMO_OP, T0, planned_operation
from mira_jupyter.ui.state import OperationState


def fold(events) -> OperationState:
    state = OperationState()
    for event in events:
        state.apply(event)
    return state


def test_planned_operation_folds_to_completed_tasks_and_answer():
    events = planned_operation(5)
    state = fold(events)
    assert state.operation_id == DEMO_OP
    assert state.status == "completed"
    assert state.mode == "planned"
    assert [t.sequence for t in state.ordered_tasks()] == [1, 2, 3, 4, 5]
    assert state.task_counts() == {
        "pending": 0, "in_progress": 0, "completed": 5, "failed": 0, "stopped": 0, "not_started": 0
    }  # fmt: skip
    assert state.tool_counts() == {"ok": 5, "denied": 1}
    assert state.tool_calls["tc_denied"].denial_reason == "path escapes the project root"
    assert state.answer.startswith("## Fixed the CSV loader")
    assert [f.path for f in state.files_changed] == ["src/loader.py"]
    assert state.last_seq == len(events)


def test_from_stored_json_equals_live_state_even_unordered():
    events = planned_operation(12, deltas=300, fail_task=7)
    live = fold(events)
    stored = [e.model_dump_json() for e in events]
    random.Random(4).shuffle(stored)  # a query without ORDER BY
    rebuilt = OperationState.from_events(stored)
    assert rebuilt == live
    assert rebuilt.tasks["task_07"].status == "failed"
    assert rebuilt.tasks["task_07"].error == "tests still fail: 1 error"


def test_cost_and_tokens_by_role_and_savings():
    state = fold(planned_operation(3, finish=False))
    orch, execu = state.roles["orchestrator"], state.roles["executor"]
    assert (orch.calls, execu.calls) == (1, 3)
    assert orch.cost.total_usd == Decimal("0.005275")
    assert execu.cost.total_usd == Decimal("0.00116") * 3
    assert execu.usage.cached_input_tokens == 3000
    assert state.usage.input_tokens == 1200 + 3 * 3000
    assert state.usage.reasoning_tokens == 250
    assert state.cost.total_usd == Decimal("0.005275") + Decimal("0.00348")
    # live savings: what the executor's tokens would have cost at orchestrator prices, minus their cost
    assert state.routing_savings_usd == (Decimal("0.0078") - Decimal("0.00116")) * 3


def test_final_figures_win_once_reported():
    events = planned_operation(2, finish=False)
    final = OperationFinished(
        operation_id=DEMO_OP,
        seq=999,
        status="completed",
        usage=Usage(input_tokens=1, output_tokens=2),
        cost=Cost(output_usd=Decimal("1.5")),
        routing_savings_usd=Decimal("0.25"),
    )
    state = fold([*events, final])
    assert state.usage == Usage(input_tokens=1, output_tokens=2)
    assert state.cost.total_usd == Decimal("1.5")
    assert state.routing_savings_usd == Decimal("0.25")
    assert not state.active_calls


def test_events_for_unknown_tasks_and_tools_still_show():
    state = fold(
        [
            TaskStarted(operation_id="op_x", task_id="t9"),
            ToolCallFinished(
                operation_id="op_x",
                tool_call_id="tc1",
                role="orchestrator",
                tool="write_file",
                status="denied",
                denial_reason="not in the skill's allowed tools",
                duration_ms=0.1,
            ),
        ]
    )
    assert state.tasks["t9"].status == "in_progress"
    assert state.tool_calls["tc1"].status == "denied"


def test_plan_stream_mode_change_notices_and_unpriced_costs():
    state = fold(
        [
            TextDelta(operation_id="op_x", text="1. Read", channel="plan"),
            TextDelta(operation_id="op_x", text=" the file", channel="plan"),
            ModeChanged(operation_id="op_x", mode="planned", reason="simple mode failed"),
            Notice(operation_id="op_x", level="warning", message="turn cap reached"),
            LLMCallFinished(
                operation_id="op_x",
                call_id="c1",
                role="executor",
                provider="ollama",
                model="llama3.1",
                started_at=T0,
                latency_ms=5,
                usage=Usage(input_tokens=10, output_tokens=5, source="estimated"),
                cost=Cost(priced=False),
            ),
        ]
    )
    assert state.plan == "1. Read the file"
    assert state.text == ""
    assert state.mode == "planned" and state.mode_changes == [("planned", "simple mode failed")]
    assert state.notices == [("warning", "turn cap reached")]
    assert state.cost.priced is False
    assert state.usage.source == "estimated"
    assert state.routing_savings_usd == 0


def test_a_resumed_plan_drops_the_plan_only_notice_and_keeps_the_others():
    # the finished widget of a plan run with Run plan said "plan only: running it is
    # estimated at ..." next to its completed tasks
    from mira_jupyter.core.events import PLAN_ONLY_NOTICE

    state = fold(
        [
            Notice(operation_id=DEMO_OP, message="gpt-x has no price", level="warning"),
            Notice(operation_id=DEMO_OP, message=PLAN_ONLY_NOTICE + "running it is estimated at about $0.10"),
        ]
    )
    assert len(state.notices) == 2
    state.apply(OperationResumed(operation_id=DEMO_OP))
    assert state.notices == [("warning", "gpt-x has no price")]

