"""The shared team log on DuckLake with a real PostgreSQL catalog: many writers, a reader,
a catalog that goes away, and the same views and history as the local file."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from .lake_env import child_env, run_json, spawn
from .pg_cluster import Cluster

pytestmark = pytest.mark.slow

EVENTS_PER_OP = 26
# what one full_operation's two calls cost (store_events.ORCH_COST + EXEC_COST)
COST_PER_OP = Decimal("0.00583")


def _finish(child, timeout: float = 600) -> dict:
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _check_exact(path: list[str], location: str, sessions: list[str], ops: int) -> dict:
    facts = run_json(path, "check", location)
    expected = [[f"{s}-op{i}", EVENTS_PER_OP] for s in sessions for i in range(ops)]
    got = sorted([op, covered] for op, covered, _distinct, _rows in facts["coverage"])
    assert got == sorted(expected), "every operation's 26 events are there, none missing"
    assert all(rows == distinct for _op, _c, distinct, rows in facts["coverage"])
    assert facts["duplicate_events"] == 0
    assert facts["duplicate_rows"] == dict.fromkeys(facts["duplicate_rows"], 0)
    assert facts["operations"][0] == len(sessions) * ops
    assert Decimal(facts["llm_cost"]) == COST_PER_OP * len(sessions) * ops
    return facts


def test_three_writers_and_a_reader_lose_nothing_and_duplicate_nothing(
    team_path: list[str], lake: tuple[str, str]
) -> None:
    location, data = lake
    ops = 30
    people = [("sA", "ann", "host-a"), ("sB", "bob", "host-b"), ("sC", "cho", "host-c")]
    # the lake is created and migrated first (kernels racing to create a lake is the
    # preparation's own retry loop; this test is about many writers of one log)
    assert _try_check(team_path, location, data) is not None
    writers = [
        spawn(
            team_path, "write", location, session, ops,
            env=child_env(team_path, MIRA_USER=user, MIRA_HOST=host, MIRA_LAKE_DATA_PATH=data),
        )
        for session, user, host in people
    ]  # fmt: skip
    reader = spawn(team_path, "read", location, 60, env=child_env(team_path, MIRA_LAKE_DATA_PATH=data))
    results = [_finish(w) for w in writers]
    for result in results:
        assert result["accepted"] == ops * EVENTS_PER_OP
        assert result["closed_ok"] is True, result
    seen = _finish(reader)
    assert seen["reads"] > 0 and seen["errors"] == [], seen
    _check_exact(team_path, location, [p[0] for p in people], ops)
    views = run_json(team_path, "views", location)
    per_person = COST_PER_OP * ops
    exact = lambda rows: sorted([k, n, Decimal(usd)] for k, n, usd in rows)  # noqa: E731
    assert exact(views["by_user"]) == [[u, 2 * ops, per_person] for _, u, _ in people]
    assert exact(views["by_host"]) == [[h, 2 * ops, per_person] for _, _, h in people]
    assert views["history"] == 3 * ops and views["via_connect"] == 3 * ops
    assert views["day_calls"] == 6 * ops


def _try_check(path: list[str], location: str, data: str | None = None) -> dict | None:
    """The check facts, or None while the lake is not there yet."""
    extra = {"MIRA_LAKE_DATA_PATH": data} if data else {}
    child = spawn(path, "check", location, env=child_env(path, **extra))
    out, _err = child.communicate(timeout=180)
    return json.loads(out.strip().splitlines()[-1]) if child.returncode == 0 else None


def _wait_for(path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"the writer never reached {path.name}"
        time.sleep(0.1)


def test_catalog_down_for_ten_seconds_loses_nothing(
    team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path
) -> None:
    # The writer and the outage are interlocked (not timed), so a busy machine cannot move
    # the outage off the stream: the catalog goes away after two operations, stays away
    # while the other ten are written, and is still away when the writer starts to close.
    location, data = lake
    ops = 12
    gate = tmp_path / "gate"
    gate.mkdir()
    env = child_env(team_path, MIRA_USER="dee", MIRA_HOST="host-d", MIRA_LAKE_DATA_PATH=data)
    writer = spawn(team_path, "write", location, "sD", ops, 0.5, f"--gate={gate}", env=env)
    _wait_for(gate / "two-written")
    cluster.stop()
    try:
        (gate / "go").touch()
        _wait_for(gate / "closing")
        time.sleep(5)  # close() has met the outage: it must wait for the catalog, not give up
    finally:
        cluster.start()
    result = _finish(writer)
    assert result["accepted"] == ops * EVENTS_PER_OP
    assert result["closed_ok"] is True, result
    reached = [n for n in result["notices"] if "cannot be reached" in n]
    assert len(reached) == 1, result["notices"]  # said once, in words, not DuckDB's text
    assert not any("TransactionContext" in n for n in result["notices"]), result["notices"]
    assert any("writable again" in n for n in result["notices"]), result["notices"]
    _check_exact(team_path, location, ["sD"], ops)


def test_an_unreachable_catalog_keeps_events_in_the_journal_and_says_so_once(
    team_path: list[str], tmp_path
) -> None:
    # nothing listens on port 9: the writer keeps every event and says why in one line,
    # with the connection string's password masked
    location = "ducklake:postgres:dbname=nowhere user=postgres password=s3cret host=127.0.0.1 port=9"
    env = child_env(team_path, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    child = spawn(team_path, "write", location, "sE", 1, 0, "--close-timeout=3", env=env)
    result = _finish(child, timeout=300)
    assert result["accepted"] == EVENTS_PER_OP
    assert result["closed_ok"] is False
    assert len([n for n in result["notices"] if "cannot be reached" in n]) == 1, result
    assert "s3cret" not in json.dumps(result)
    journals = list((tmp_path / ".cache" / "mira_jupyter" / "journal").rglob("*.jsonl"))
    assert len(journals) == 1
    lines = journals[0].read_text().splitlines()
    assert len(lines) == 1 + EVENTS_PER_OP  # the header, then every event
    assert "s3cret" not in journals[0].parent.name


def test_export_moves_a_local_log_into_the_lake_once(
    team_path: list[str], lake: tuple[str, str], tmp_path
) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from dataclasses import replace

    from store_events import full_operation

    from mira_jupyter.store.recorder import Recorder
    from mira_jupyter.store.session import SessionInfo

    location, data = lake
    # a local log written by this process's DuckDB (the base install's), read by the team one
    local = tmp_path / "local" / "mira.duckdb"
    session = replace(SessionInfo.current("/proj"), id="sL", user="fay", host="laptop")
    recorder = Recorder(local, session)
    for i in range(3):
        for event in full_operation(f"sL-op{i}", "sL"):
            recorder(event)
    assert recorder.close(timeout=60)
    # the team DuckDB (1.5.5) cannot open a file the base one (2.x) wrote: it says what to do
    child = spawn(team_path, "export", location, local, env=child_env(team_path, MIRA_LAKE_DATA_PATH=data))
    _out, err = child.communicate(timeout=300)
    assert child.returncode != 0 and "newer DuckDB" in err and "%mira export DIR" in err, err[-2000:]
    # so the log goes through Parquet, which both read
    from mira_jupyter.store import analytics

    source = tmp_path / "parquet"
    analytics.export(local, source)
    first = run_json(team_path, "export", location, source, MIRA_LAKE_DATA_PATH=data)
    assert first["operations"] == 3 and first["llm_calls"] == 6 and first["operation_events"] == 3 * 22
    again = run_json(team_path, "export", location, source)
    assert again == dict.fromkeys(again, 0)  # nothing twice
    _check_exact(team_path, location, ["sL"], 3)
    views = run_json(team_path, "views", location)
    assert [[u, n, Decimal(usd)] for u, n, usd in views["by_user"]] == [["fay", 6, COST_PER_OP * 3]]
