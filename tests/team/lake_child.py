"""Child process of the team-log tests: a kernel writing the lake, a reader, or a checker.

Runs with DuckDB 1.5.5 (see lake_env.py). Usage: python lake_child.py ACTION LAKE [ARGS...]
  write LAKE SESSION OPS [PAUSE]  record OPS full operations (flushing each, PAUSE s apart),
                                  close; print JSON {accepted, closed_ok, notices}.
                                  --gate=DIR: after two operations create DIR/two-written and
                                  wait for DIR/go; create DIR/closing before closing
  read LAKE SECONDS               query costs and history in a loop; print JSON {reads, errors}
  check LAKE                      print JSON facts about the rows (coverage, duplicates, sums)
  views LAKE                      print JSON of costs by user/host/day, history, connect()
  export LAKE FILE                copy the local log FILE into the lake; print rows copied
  budget LAKE                     print JSON of the team budget ledger against the calls logged
  schema LAKE                     print JSON of the applied migrations and the tables' columns
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from store_events import full_operation  # noqa: E402

from mira_jupyter.store import analytics  # noqa: E402
from mira_jupyter.store.recorder import Recorder  # noqa: E402
from mira_jupyter.store.session import SessionInfo  # noqa: E402
from mira_jupyter.store.team_budget import TeamLedger  # noqa: E402


def _signal_and_wait(gate: Path | None, mark: str, wait_for: str | None = None) -> None:
    """With a gate directory: create `mark` in it, then wait for the test to create `wait_for`."""
    if gate is None:
        return
    (gate / mark).touch()
    deadline = time.monotonic() + 600
    while wait_for and not (gate / wait_for).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def write(
    lake: str, session_id: str, ops: int, pause: float, close_timeout: float, gate: Path | None = None
) -> dict:
    session = SessionInfo.current("/proj", session_id)
    recorder = Recorder(lake, session, lock_timeout=5.0)
    notices: list[str] = []
    start = datetime.now(UTC)
    for i in range(ops):
        for event in full_operation(f"{session_id}-op{i}", session_id, start + timedelta(seconds=40 * i)):
            recorder(event)
        recorder.flush(timeout=2.0)  # a cell does not wait long for the log
        notices += recorder.take_notices()
        if i == 1:  # two operations are in: the test may take the catalog away now
            _signal_and_wait(gate, "two-written", "go")
        time.sleep(pause)
    _signal_and_wait(gate, "closing")
    ok = recorder.close(timeout=close_timeout)
    notices += recorder.take_notices()
    return {"accepted": recorder._accepted, "closed_ok": ok, "notices": notices}


def read(lake: str, seconds: float) -> dict:
    end = time.monotonic() + seconds
    reads, errors = 0, []
    while time.monotonic() < end:
        try:
            analytics.costs(lake, by="model", timeout=10)
            analytics.history(lake, n=5, timeout=10)
            reads += 1
        except Exception as exc:  # counted, the test decides
            import traceback

            where = " | ".join(traceback.format_exc().splitlines()[-12:])
            errors.append(f"{type(exc).__name__}: {exc}"[:300] + " at " + where[-1500:])
        time.sleep(0.2)
    return {"reads": reads, "errors": errors}


def check(lake: str) -> dict:
    q = lambda sql: analytics.query(lake, sql).values.tolist()  # noqa: E731
    return {
        "coverage": q(
            "SELECT operation_id, sum(seq_end - seq + 1)::BIGINT, count(DISTINCT seq)::BIGINT, "
            "count(*)::BIGINT FROM operation_events GROUP BY ALL ORDER BY 1"
        ),
        "duplicate_events": q(
            "SELECT count(*)::BIGINT FROM (SELECT operation_id, seq FROM operation_events "
            "GROUP BY ALL HAVING count(*) > 1)"
        )[0][0],
        "duplicate_rows": {
            table: q(
                f"SELECT count(*)::BIGINT FROM (SELECT id FROM {table} GROUP BY id HAVING count(*) > 1)"
            )[0][0]
            for table in ("sessions", "operations", "operation_tasks", "llm_calls", "tool_calls")
        },
        "operations": q("SELECT count(*)::BIGINT, count(*) FILTER (WHERE status = 'completed')::BIGINT FROM operations")[0],
        "llm_cost": str(q("SELECT sum(cost_total_usd)::VARCHAR FROM llm_calls")[0][0]),
    }


def views(lake: str) -> dict:
    by_user = analytics.costs(lake, by="user")
    by_host = analytics.costs(lake, by="host")
    by_day = analytics.costs(lake, by="day")
    history = analytics.history(lake, n=1000)
    con = analytics.connect(lake)
    try:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall())
        via_connect = con.execute("SELECT count(*) FROM operations").fetchone()[0]
    finally:
        con.close()
    return {
        "by_user": [[u, int(c), str(usd)] for u, c, usd in by_user[["user_name", "calls", "cost_usd"]].values],
        "by_host": [[h, int(c), str(usd)] for h, c, usd in by_host[["host", "calls", "cost_usd"]].values],
        "day_calls": int(by_day["calls"].sum()),
        "total": str(by_user.attrs["totals"]["cost_usd"]),
        "history": len(history),
        "history_users": sorted(set(analytics.query(lake, "SELECT DISTINCT user_name FROM operations")["user_name"])),
        "tables": tables,
        "via_connect": int(via_connect),
    }


def budget(lake: str) -> dict:
    q = lambda sql: analytics.query(lake, sql).values.tolist()  # noqa: E731
    calls, spend = q(
        "SELECT count(*)::BIGINT, coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0)::VARCHAR "
        "FROM llm_calls"
    )[0]
    n, open_, charged, held = q(
        "SELECT count(*)::BIGINT, count(*) FILTER (WHERE settled_at IS NULL)::BIGINT, "
        "coalesce(sum(charged), 0)::VARCHAR, "
        "coalesce(sum(coalesce(charged, amount)), 0)::VARCHAR FROM team_reservations"
    )[0]
    unreserved = q(
        "SELECT count(*)::BIGINT FROM llm_calls c "
        "WHERE NOT EXISTS (SELECT 1 FROM team_reservations r WHERE r.call_id = c.id)"
    )[0][0]
    return {
        "calls": calls, "spend": spend, "reservations": n, "open": open_, "charged": charged,
        "held": held, "calls_without_reservation": unreserved,
        "lock_rows": q("SELECT count(*)::BIGINT FROM team_budget_lock")[0][0],
        "team_used": str(TeamLedger(lake, Decimal(1), "day", SessionInfo.current("/proj")).used()),
    }  # fmt: skip


def schema(lake: str) -> dict:
    q = lambda sql: analytics.query(lake, sql).values.tolist()  # noqa: E731
    return {
        "migrations": q("SELECT version, count(*)::BIGINT FROM schema_migrations GROUP BY ALL ORDER BY 1"),
        "columns": q(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY ALL"
        ),
        "views": sorted(r[0] for r in q(
            "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal"
        )),
        "lock_rows": q("SELECT count(*)::BIGINT FROM team_budget_lock")[0][0],
    }  # fmt: skip


def main() -> None:
    action, lake = sys.argv[1], sys.argv[2]
    if action == "write":
        pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
        close_timeout, gate = 120.0, None
        for extra in sys.argv[6:]:
            if extra.startswith("--close-timeout="):
                close_timeout = float(extra.split("=", 1)[1])
            elif extra.startswith("--gate="):
                gate = Path(extra.split("=", 1)[1])
        result = write(lake, sys.argv[3], int(sys.argv[4]), pause, close_timeout, gate)
    elif action == "read":
        result = read(lake, float(sys.argv[3]))
    elif action == "check":
        result = check(lake)
    elif action == "views":
        result = views(lake)
    elif action == "budget":
        result = budget(lake)
    elif action == "schema":
        result = schema(lake)
    elif action == "export":  # export LAKE SOURCE_FILE
        from mira_jupyter.store.lake_export import export_to_lake

        result = export_to_lake(sys.argv[3], lake).rows
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
