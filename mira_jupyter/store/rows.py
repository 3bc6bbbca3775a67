"""Map engine events onto table rows, idempotently (a replayed event is never applied twice).

Every write is an order-independent merge (see :mod:`.batch`): events of one operation
can reach the database in different batches, from a journal replay, or (with several
engine threads) slightly out of order, and the rows must come out the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mira_jupyter.core.events import (
    FileChanged,
    LLMCallFinished,
    LLMCallStarted,
    ModeChanged,
    OperationFinished,
    OperationResumed,
    OperationStarted,
    PlanGenerated,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from mira_jupyter.core.money import stored_usd

from .batch import FILL, SET, START, RowChanges
from .journal import Pending
from .session import SessionInfo

if TYPE_CHECKING:
    import duckdb


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def session_row(session: SessionInfo, session_id: str) -> dict[str, Any]:
    """The ``sessions`` row for `session_id`, describing the process of `session`."""
    return {
        "id": session_id,
        "pid": session.pid,
        "hostname": session.hostname,
        "started_at": session.started_at,
        "project_root": session.project_root,
        "mira_version": session.mira_version,
        "journal_path": session.journal_path,
        "user_name": session.user,
    }


def upsert_session(
    con: duckdb.DuckDBPyConnection, session: SessionInfo, session_id: str, claim: bool = False
) -> None:
    """Insert the ``sessions`` row for `session_id` unless present.

    With `claim`, a live recorder takes the row over: a session id reused after an earlier
    recorder closed must not keep that recorder's process, journal and end time, or other
    processes would think this one dead.
    """
    changes = RowChanges()
    if claim:
        row = session_row(session, session_id)
        row["ended_at"] = None
        changes.change("sessions", row, modes={"started_at": FILL})
    else:
        changes.insert("sessions", session_row(session, session_id))
    changes.write(con)


def _operation_started(out: RowChanges, e: OperationStarted, writer: SessionInfo | None) -> None:
    if writer is not None:
        # the engine may label operations with its own session id; make sure that id has
        # a row naming this process, or a crash could never be detected
        out.insert("sessions", session_row(writer, e.session_id))
    values = {
        "id": e.operation_id,
        "session_id": e.session_id,
        "request": e.request,
        "mode": e.mode,
        "requested_mode": e.requested_mode,
        "skill": e.skill,
        "reasoning": e.reasoning,
        "complexity_score": e.complexity_score,
        "complexity_reasons": _dumps(e.complexity_reasons),
        "orchestrator_model": e.orchestrator_model,
        "executor_model": e.executor_model,
        "project_root": e.project_root,
        "budget_usd": e.budget_usd,
        "plan_only": e.plan_only,
        "started_at": e.ts,
        "conversation_id": e.conversation_id,
        "parent_operation_id": e.parent_operation_id,
        "history_turns": e.history_turns,
        "history_dropped": e.history_dropped,
        "history_tokens": e.history_tokens,
    }
    if writer is not None:
        values["user_name"] = writer.user
        values["host"] = writer.host or writer.hostname
    out.change("operations", values)


def _operation_resumed(out: RowChanges, e: OperationResumed, writer: SessionInfo | None) -> None:
    # a plan-only operation being run: the same row is running again
    out.change("operations", {"id": e.operation_id, "status": "running", "finished_at": None})


def _mode_changed(out: RowChanges, e: ModeChanged, writer: SessionInfo | None) -> None:
    out.change("operations", {"id": e.operation_id, "mode": e.mode})


def _plan_generated(out: RowChanges, e: PlanGenerated, writer: SessionInfo | None) -> None:
    values = {
        "id": e.operation_id,
        "plan_text": e.plan_text,
        "plan_source": e.source,
        "plan_started_at": e.started_at,
        "plan_generated_at": e.ts,
        "planning_input_tokens": e.input_tokens,
        "planning_output_tokens": e.output_tokens,
        "planning_reasoning_tokens": e.reasoning_tokens,
        "plan_estimated_cost_usd": e.estimated_cost_usd,
        "tasks_planned": e.tasks_planned,
    }
    out.change("operations", values)


def _operation_finished(out: RowChanges, e: OperationFinished, writer: SessionInfo | None) -> None:
    values = {
        "id": e.operation_id,
        "status": e.status,
        "result_text": e.result_text,
        "error": e.error,
        "finished_at": e.ts,
        "input_tokens": e.usage.input_tokens,
        "cached_input_tokens": e.usage.cached_input_tokens,
        "output_tokens": e.usage.output_tokens,
        "reasoning_tokens": e.usage.reasoning_tokens,
        "usage_source": e.usage.source,
        # an operation whose calls were all unpriced has no known cost: NULL, never $0.00
        "cost_usd": stored_usd(e.cost.total_usd) if e.cost.priced or e.cost.total_usd else None,
        "cost_upper_usd": stored_usd(e.cost.upper_usd),
        "routing_savings_usd": e.routing_savings_usd,
        "priced": e.cost.priced,
    }
    if e.skills:  # the skills the operation used (activate_skill too), not only --skill
        values["skill"] = ",".join(e.skills)
    out.change("operations", values)


def _task_created(out: RowChanges, e: TaskCreated, writer: SessionInfo | None) -> None:
    values = {
        "id": e.task_id,
        "operation_id": e.operation_id,
        "sequence": e.sequence,
        "description": e.description,
        "active_form": e.active_form,
        "depends_on": _dumps(e.depends_on) if e.depends_on else None,
        "planned": e.planned,
        "created_at": e.ts,
    }
    out.change("operation_tasks", values)


def _task_started(out: RowChanges, e: TaskStarted, writer: SessionInfo | None) -> None:
    values = {
        "id": e.task_id,
        "operation_id": e.operation_id,
        "status": "in_progress",
        "started_at": e.ts,
    }
    # a late start must not reopen a task that already finished
    out.change("operation_tasks", values, modes={"status": START})


def _task_completed(out: RowChanges, e: TaskCompleted, writer: SessionInfo | None) -> None:
    values = {
        "id": e.task_id,
        "operation_id": e.operation_id,
        "status": "completed",
        "completed_at": e.ts,
        "note": e.note,
    }
    out.change("operation_tasks", values)


def _task_failed(out: RowChanges, e: TaskFailed, writer: SessionInfo | None) -> None:
    values = {
        "id": e.task_id,
        "operation_id": e.operation_id,
        "status": "failed",
        "completed_at": e.ts,
        "error_message": e.error,
    }
    out.change("operation_tasks", values)


def _llm_call_started(out: RowChanges, e: LLMCallStarted, writer: SessionInfo | None) -> None:
    values = {
        "id": e.call_id,
        "operation_id": e.operation_id,
        "task_id": e.task_id,
        "role": e.role,
        "provider": e.provider,
        "model": e.model,
        "purpose": e.purpose,
        "reasoning_effort": e.reasoning_effort,
        "reasoning_requested": e.reasoning_requested,
        "skill": e.skill,
        "started_at": e.ts,
    }
    out.change("llm_calls", values, FILL)


def _llm_call_finished(out: RowChanges, e: LLMCallFinished, writer: SessionInfo | None) -> None:
    values = {
        "id": e.call_id,
        "operation_id": e.operation_id,
        "task_id": e.task_id,
        "role": e.role,
        "provider": e.provider,
        "model": e.model,
        "purpose": e.purpose,
        "reasoning_effort": e.reasoning_effort,
        "reasoning_requested": e.reasoning_requested,
        "skill": e.skill,
        "stream": e.stream,
        "started_at": e.started_at,
        "finished_at": e.ts,
        "latency_ms": e.latency_ms,
        "ttft_ms": e.ttft_ms,
        "input_tokens": e.usage.input_tokens,
        "cached_input_tokens": e.usage.cached_input_tokens,
        "output_tokens": e.usage.output_tokens,
        "reasoning_tokens": e.usage.reasoning_tokens,
        "usage_source": e.usage.source,
        "output_tokens_upper": e.usage.output_tokens_upper,
        "raw_usage_json": _raw_usage_json(e.usage),
        "provider_cost_usd": stored_usd(e.usage.provider_cost_usd),
        # an unpriced call's cost is unknown: NULL, so no sum can turn it into $0.00;
        # costs are rounded up to the column's precision, so none becomes free
        "cost_input_usd": stored_usd(e.cost.input_usd) if e.cost.priced else None,
        "cost_cached_input_usd": stored_usd(e.cost.cached_input_usd) if e.cost.priced else None,
        "cost_output_usd": stored_usd(e.cost.output_usd) if e.cost.priced else None,
        "cost_total_usd": stored_usd(e.cost.total_usd) if e.cost.priced else None,
        "cost_upper_usd": stored_usd(e.cost.upper_usd),
        "cost_source": e.cost.source if e.cost.priced else None,
        "orchestrator_equivalent_usd": stored_usd(e.orchestrator_equivalent_usd),
        "price_version": e.cost.price_version,
        "priced": e.cost.priced,
        "finish_reason": e.finish_reason,
        "status": e.status,
        "error": e.error,
    }
    out.change("llm_calls", values)


# the key of a retried call's raw usage: one entry per attempt (no provider object has it)
ATTEMPTS_KEY = "mira_attempts"


def _raw_usage_json(usage: Any) -> str | None:
    """The provider's usage object; for a retried call, every attempt's own usage."""
    if not usage.attempts:
        return None if usage.raw is None else _dumps(usage.raw)
    attempts = [
        {
            "raw": part.raw,
            "input_tokens": part.input_tokens,
            "cached_input_tokens": part.cached_input_tokens,
            "output_tokens": part.output_tokens,
            "reasoning_tokens": part.reasoning_tokens,
            "source": part.source,
            "provider_cost_usd": None if part.provider_cost_usd is None else str(part.provider_cost_usd),
        }
        for part in usage.attempts
    ]
    return _dumps({ATTEMPTS_KEY: attempts})


def _tool_call_started(out: RowChanges, e: ToolCallStarted, writer: SessionInfo | None) -> None:
    values = {
        "id": e.tool_call_id,
        "operation_id": e.operation_id,
        "llm_call_id": e.llm_call_id,
        "task_id": e.task_id,
        "role": e.role,
        "tool": e.tool,
        "arguments": _dumps(e.arguments),
        "started_at": e.ts,
    }
    out.change("tool_calls", values, FILL, modes={"arguments": SET, "started_at": SET})


def _tool_call_finished(out: RowChanges, e: ToolCallFinished, writer: SessionInfo | None) -> None:
    values = {
        "id": e.tool_call_id,
        "operation_id": e.operation_id,
        "llm_call_id": e.llm_call_id,
        "task_id": e.task_id,
        "role": e.role,
        "tool": e.tool,
        "status": e.status,
        "denial_reason": e.denial_reason,
        "error": e.error,
        "summary": e.summary,
        "duration_ms": e.duration_ms,
        "result_bytes": e.result_bytes,
        "truncated": e.truncated,
        "finished_at": e.ts,
    }
    out.change("tool_calls", values)


def _file_changed(out: RowChanges, e: FileChanged, writer: SessionInfo | None) -> None:
    values = {
        "operation_id": e.operation_id,
        "seq": e.seq,
        "path": e.path,
        "existed_before": e.existed_before,
        "previous_content": e.previous_content,
        "previous_sha256": e.previous_sha256,
        "new_sha256": e.new_sha256,
        "new_content": e.new_content,
        "tool_call_id": e.tool_call_id,
        "project_root": e.project_root,
        "ts": e.ts,
    }
    out.insert("file_changes", values)


_HANDLERS: dict[type, Callable[[RowChanges, Any, SessionInfo | None], None]] = {
    OperationStarted: _operation_started,
    OperationResumed: _operation_resumed,
    ModeChanged: _mode_changed,
    PlanGenerated: _plan_generated,
    OperationFinished: _operation_finished,
    TaskCreated: _task_created,
    TaskStarted: _task_started,
    TaskCompleted: _task_completed,
    TaskFailed: _task_failed,
    LLMCallStarted: _llm_call_started,
    LLMCallFinished: _llm_call_finished,
    ToolCallStarted: _tool_call_started,
    ToolCallFinished: _tool_call_finished,
    FileChanged: _file_changed,
}
# kept in operation_events only: text is coalesced there; notices and reasoning summaries
# need no table of their own
NO_ROWS: frozenset[str] = frozenset(
    {"TextDelta", "Notice", "ReasoningSummary", "ApprovalRequested", "ApprovalDecided"}
)


def payload_json(item: Pending) -> str:
    """The event's JSON for ``operation_events`` (file contents live in ``file_changes``)."""
    event = item.event
    if isinstance(event, FileChanged) and (event.previous_content is not None or event.new_content is not None):
        return event.model_dump_json(exclude={"previous_content", "new_content"})
    return item.line


def unapplied(con: duckdb.DuckDBPyConnection, items: Sequence[Pending]) -> list[Pending]:
    """Drop events already recorded (by a range test on operation_events) or repeated."""
    bounds: dict[str, list[int]] = {}
    for item in items:
        lo_hi = bounds.setdefault(item.event.operation_id, [item.event.seq, item.event.seq])
        lo_hi[0] = min(lo_hi[0], item.event.seq)
        lo_hi[1] = max(lo_hi[1], item.event.seq)
    ops = list(bounds)
    rows = con.execute(
        """
        SELECT e.operation_id, e.seq, e.seq_end FROM operation_events e
        JOIN (SELECT unnest(?::VARCHAR[]) AS op, unnest(?::INTEGER[]) AS lo,
                     unnest(?::INTEGER[]) AS hi) b
          ON e.operation_id = b.op AND e.seq <= b.hi AND e.seq_end >= b.lo
        """,
        [ops, [bounds[o][0] for o in ops], [bounds[o][1] for o in ops]],
    ).fetchall()
    done: dict[str, list[tuple[int, int]]] = {}
    for op, lo, hi in rows:
        done.setdefault(op, []).append((lo, hi))
    seen: set[tuple[str, int]] = set()
    fresh = []
    for item in items:
        key = (item.event.operation_id, item.event.seq)
        if key in seen or any(lo <= key[1] <= hi for lo, hi in done.get(key[0], ())):
            continue
        seen.add(key)
        fresh.append(item)
    return fresh


def _event_rows(items: Sequence[Pending]) -> list[tuple[str, int, int, str, str, Any]]:
    """One row per event, merging runs of consecutive same-channel text deltas."""
    rows: list[tuple[str, int, int, str, str, Any]] = []
    run: list[TextDelta] = []

    def close_run() -> None:
        if not run:
            return
        first = run[0]
        merged = first.model_copy(update={"text": "".join(d.text for d in run)})
        rows.append(
            (
                first.operation_id,
                first.seq,
                run[-1].seq,
                first.type,
                merged.model_dump_json(),
                first.ts,
            )
        )
        run.clear()

    for item in items:
        e = item.event
        if isinstance(e, TextDelta):
            if run and (
                run[-1].operation_id != e.operation_id
                or run[-1].channel != e.channel
                or run[-1].seq + 1 != e.seq
            ):
                close_run()
            run.append(e)
            continue
        close_run()
        rows.append((e.operation_id, e.seq, e.seq, e.type, payload_json(item), e.ts))
    close_run()
    return rows


def apply_events(
    con: duckdb.DuckDBPyConnection, items: Sequence[Pending], writer: SessionInfo | None = None
) -> int:
    """Write a batch (inside the caller's transaction); returns how many events were new."""
    if not items:
        return 0
    fresh = unapplied(con, items)
    if not fresh:
        return 0
    fresh.sort(key=lambda item: (item.event.operation_id, item.event.seq))
    rows = _event_rows(fresh)
    columns = list(zip(*rows, strict=True))
    con.execute(
        """
        INSERT INTO operation_events (operation_id, seq, seq_end, type, payload, ts)
        SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::INTEGER[]),
               unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMPTZ[])
        """,
        [list(c) for c in columns],
    )
    changes = RowChanges()
    for item in fresh:
        handler = _HANDLERS.get(type(item.event))
        if handler is not None:
            handler(changes, item.event, writer)
    changes.write(con)
    return len(fresh)
