"""Close out the operations of kernels that died: status, tasks, and the cost of the cut call.

A kernel killed in the middle of a model call never logs that call's ``LLMCallFinished``,
so its row has no tokens and no cost, and the operation's total would silently leave it
out. The call is estimated instead, from what the log holds: the operation's request (a
lower bound of the prompt) and the answer text streamed before the kill. Such rows are
marked ``usage_source = 'estimated'`` and say so in their ``error``.

Tokens and prices are the model layer's knowledge, which the store must not import: the
estimator is handed in with `set_call_estimator` (the session installs
:func:`mira_jupyter.llm.usage.estimate_cut_call`, the engine's own tokenizer and price
table). Without one, cut calls are left unpriced rather than guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..core import hooks
from ..core.money import stored_usd
from . import journal
from .rows import apply_events
from .session import pid_alive, this_host

if TYPE_CHECKING:
    import duckdb

    from mira_jupyter.core.events import Cost, Usage

# (provider:model, recorded request, partial output) -> estimated usage and its cost
CallEstimator = Callable[[str, str, str], "tuple[Usage, Cost]"]
_estimator: CallEstimator | None = None

log = logging.getLogger(__name__)

TASK_INTERRUPTED = "kernel stopped before the task finished"
OPERATION_INTERRUPTED = "kernel stopped before the operation finished"
CALL_INTERRUPTED = (
    "kernel stopped during the call; tokens and cost estimated from the recorded request "
    "and partial output"
)


def set_call_estimator(estimator: CallEstimator | None) -> None:
    """Install how recovery estimates a cut call (None: leave such calls unpriced)."""
    global _estimator
    _estimator = estimator


def _from_epoch_us(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _session_dead(pid: int | None, host: str | None, ended: bool, journal_path: str | None) -> bool:
    if ended:
        return True
    if host != this_host():
        return False  # another machine's kernel: nothing here can tell whether it lives
    if journal_path:
        return not journal.is_owned(journal_path)
    return not pid_alive(pid)


def estimate_interrupted_calls(con: duckdb.DuckDBPyConnection, op_id: str) -> int:
    """Fill tokens and cost of `op_id`'s calls that never finished; returns how many."""
    # json_extract_string on the text, not payload->>'…': on DuckLake (duckdb 1.5.5) the
    # arrow operator in this join failed with "Failed to cast value to numerical" and, since
    # every reader and writer runs this for a dead kernel's operation, broke the whole lake
    calls = con.execute(
        """
        SELECT c.id, c.provider, c.model, e.seq
        FROM llm_calls c
        LEFT JOIN operation_events e
          ON e.operation_id = c.operation_id AND e.type = 'LLMCallStarted'
         AND json_extract_string(e.payload::VARCHAR, '$.call_id') = c.id
        WHERE c.operation_id = ? AND c.status = 'running' AND c.cost_total_usd IS NULL
        """,
        [op_id],
    ).fetchall()
    # the session installs one; without it (a process that only opened the store) the
    # package's own lazy one prices the call, so it is not left unpriced for good
    estimator = _estimator or hooks.cut_call_estimator
    if not calls or estimator is None:
        return 0
    (request,) = con.execute(
        "SELECT coalesce(request, '') FROM operations WHERE id = ?", [op_id]
    ).fetchone() or ("",)
    for call_id, provider, model, started_seq in calls:
        partial = _partial_output(con, op_id, started_seq)
        usage, cost = estimator(f"{provider}:{model}", request, partial)
        con.execute(
            """
            UPDATE llm_calls SET input_tokens = ?, cached_input_tokens = 0, output_tokens = ?,
                   reasoning_tokens = 0, usage_source = 'estimated', cost_input_usd = ?,
                   cost_cached_input_usd = ?, cost_output_usd = ?, cost_total_usd = ?,
                   price_version = ?, priced = ?, error = coalesce(error, ?)
            WHERE id = ?
            """,
            [
                usage.input_tokens,
                usage.output_tokens,
                str(stored_usd(cost.input_usd)),
                str(stored_usd(cost.cached_input_usd)),
                str(stored_usd(cost.output_usd)),
                str(stored_usd(cost.total_usd)),
                cost.price_version,
                cost.priced,
                CALL_INTERRUPTED,
                call_id,
            ],
        )
    return len(calls)


def _partial_output(con: duckdb.DuckDBPyConnection, op_id: str, started_seq: int | None) -> str:
    """The text streamed after the call started and before the next call's events."""
    if started_seq is None:
        return ""
    (end,) = con.execute(
        """
        SELECT min(seq) FROM operation_events
        WHERE operation_id = ? AND seq > ? AND type IN ('LLMCallStarted', 'LLMCallFinished')
        """,
        [op_id, started_seq],
    ).fetchone()
    rows = con.execute(
        """
        SELECT json_extract_string(payload::VARCHAR, '$.text') FROM operation_events
        WHERE operation_id = ? AND type = 'TextDelta' AND seq > ? AND (? IS NULL OR seq < ?)
        ORDER BY seq
        """,
        [op_id, started_seq, end, end],
    ).fetchall()
    return "".join(text or "" for (text,) in rows)


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Close out `running` operations whose kernel is gone; return their ids."""
    from mira_jupyter.core.events import Cost, OperationFinished, Usage

    # timestamps travel as epoch microseconds: fetching TIMESTAMPTZ values into Python
    # objects needs pytz, which is not a dependency
    rows = con.execute(
        """
        SELECT o.id, epoch_us(o.started_at), s.pid, s.hostname, s.ended_at IS NOT NULL,
               s.journal_path, s.id
        FROM operations o LEFT JOIN sessions s ON s.id = o.session_id
        WHERE o.status = 'running'
        """
    ).fetchall()
    done: list[str] = []
    for op_id, started_us, pid, host, ended, journal_path, session_id in rows:
        if session_id is None or not _session_dead(pid, host, ended, journal_path):
            continue
        con.begin()
        try:
            last_us, last_seq = con.execute(
                "SELECT epoch_us(max(ts)), max(seq_end) FROM operation_events "
                "WHERE operation_id = ?",
                [op_id],
            ).fetchone()
            micros = last_us or started_us
            finished = _from_epoch_us(micros) if micros is not None else datetime.now(UTC)
            estimated = estimate_interrupted_calls(con, op_id)
            tokens = con.execute(
                """
                SELECT coalesce(sum(input_tokens), 0), coalesce(sum(cached_input_tokens), 0),
                       coalesce(sum(output_tokens), 0), coalesce(sum(reasoning_tokens), 0),
                       coalesce(sum(cost_input_usd), 0), coalesce(sum(cost_cached_input_usd), 0),
                       coalesce(sum(cost_output_usd), 0),
                       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0),
                       count(*) FILTER (WHERE usage_source = 'estimated')
                FROM llm_calls WHERE operation_id = ?
                """,
                [op_id],
            ).fetchone()
            usage = Usage(
                input_tokens=tokens[0],
                cached_input_tokens=tokens[1],
                output_tokens=tokens[2],
                reasoning_tokens=tokens[3],
                source="estimated" if estimated or tokens[8] else "reported",
            )
            cost = Cost(input_usd=tokens[4], cached_input_usd=tokens[5], output_usd=tokens[6])
            event = OperationFinished(
                operation_id=op_id,
                seq=(last_seq or 0) + 1,
                ts=finished,
                status="interrupted",
                error=OPERATION_INTERRUPTED,
                usage=usage,
                cost=cost,
                routing_savings_usd=tokens[7],
            )
            # recorded like any event so that `%mira show` rebuilds the final state too
            apply_events(con, [journal.Pending(event, event.model_dump_json())])
            con.execute(
                """
                UPDATE operation_tasks SET status = 'failed', error_message = ?, completed_at = ?
                WHERE operation_id = ? AND status IN ('pending', 'in_progress')
                """,
                [TASK_INTERRUPTED, finished, op_id],
            )
            for table in ("llm_calls", "tool_calls"):
                con.execute(
                    f"UPDATE {table} SET status = 'interrupted' "
                    "WHERE operation_id = ? AND status = 'running'",
                    [op_id],
                )
            con.execute(
                "UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?",
                [finished, session_id],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        done.append(op_id)
    return done
