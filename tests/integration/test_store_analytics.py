"""Analytics views and functions against a hand-computed fixture log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from store_events import BASE, full_operation

from mira_jupyter.core.events import (
    Cost,
    LLMCallFinished,
    OperationFinished,
    OperationStarted,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from mira_jupyter.store import analytics
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo

D = Decimal
# Per full operation (see store_events): orchestrator call 0.000750 + 0.000050 + 0.003000
# = 0.003800; executor call 0.001080 + 0.000070 + 0.000880 = 0.002030, which would have
# cost 0.013125 at orchestrator prices, so routing saved 0.011095.
OP_COST = D("0.005830")
OP_SAVINGS = D("0.011095")
DAY2 = BASE + timedelta(days=1)


def op_c(session_id: str) -> list:
    """A completed operation with an unpriced local-model call running a skill, and a failing tool."""
    t = DAY2 + timedelta(hours=2)
    return [
        OperationStarted(
            operation_id="opC",
            ts=t,
            session_id=session_id,
            request="Summarise the docs",
            mode="simple",
            orchestrator_model="openai:gpt-5",
            executor_model="ollama:llama3",
            project_root="/proj",
        ),
        ToolCallStarted(
            operation_id="opC",
            ts=t,
            tool_call_id="opC-x1",
            role="executor",
            tool="grep_files",
            arguments={"pattern": "(a+)+$"},
        ),
        ToolCallFinished(
            operation_id="opC",
            ts=t,
            tool_call_id="opC-x1",
            role="executor",
            tool="grep_files",
            status="error",
            error="timeout",
            duration_ms=100.0,
        ),
        LLMCallFinished(
            operation_id="opC",
            ts=t + timedelta(seconds=2),
            call_id="opC-c1",
            role="executor",
            provider="ollama",
            model="llama3",
            purpose="skill:documentation",
            started_at=t,
            latency_ms=2000.0,
            usage=Usage(input_tokens=50, output_tokens=10, source="estimated"),
            cost=Cost(priced=False),
        ),
        OperationFinished(
            operation_id="opC",
            ts=t + timedelta(seconds=3),
            status="completed",
            result_text="100% done: docs summarised",
        ),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analytics") / "mira.duckdb"
    recorder = Recorder(path, SessionInfo.current("/proj", "s1"))
    for event in [
        *full_operation("opA", "s1"),
        *full_operation("opB", "s1", start=DAY2, skill="testing"),
        *op_c("s1"),
    ]:
        recorder(event)
    assert recorder.close()
    return path


def by_key(frame, key: str) -> dict:
    return {row[key]: row for row in frame.to_dict("records")}


def test_costs_by_model(db: Path) -> None:
    frame = analytics.costs(db, by="model")
    rows = {(r["provider"], r["model"]): r for r in frame.to_dict("records")}
    gpt = rows[("openai", "gpt-5")]
    assert (
        gpt["calls"],
        gpt["input_tokens"],
        gpt["cached_input_tokens"],
        gpt["output_tokens"],
        gpt["reasoning_tokens"],
    ) == (2, 2000, 800, 600, 240)
    assert gpt["cost_usd"] == pytest.approx(0.0076) and gpt["routing_savings_usd"] == 0
    assert gpt["cache_hit_ratio"] == pytest.approx(0.4)
    ds = rows[("deepseek", "deepseek-chat")]
    assert ds["cost_usd"] == pytest.approx(0.00406)
    assert ds["routing_savings_usd"] == pytest.approx(0.02219)
    assert ds["cache_hit_ratio"] == pytest.approx(0.2)
    local = rows[("ollama", "llama3")]
    # an unpriced model's cost is unknown, never $0.00
    assert (local["calls"], local["unpriced_calls"], local["cost"]) == (1, 1, "unpriced")
    assert local["cost_usd"] is None or local["cost_usd"] != local["cost_usd"]  # NULL -> NaN
    assert list(frame["model"])[0] == "gpt-5"  # most expensive first
    totals = frame.attrs["totals"]
    assert totals["cost_usd"] == 2 * OP_COST
    assert totals["routing_savings_usd"] == 2 * OP_SAVINGS
    assert (
        totals["cost_input_usd"] + totals["cost_cached_input_usd"] + totals["cost_output_usd"]
        == totals["cost_usd"]
    )
    assert (totals["calls"], totals["input_tokens"], totals["unpriced_calls"]) == (5, 12050, 1)


def test_costs_by_role_and_cache_hit_ratio(db: Path) -> None:
    roles = by_key(analytics.costs(db, by="role"), "role")
    assert roles["orchestrator"]["cost_usd"] == pytest.approx(0.0076)
    executor = roles["executor"]
    assert (executor["calls"], executor["input_tokens"], executor["cached_input_tokens"]) == (
        3,
        10050,
        2000,
    )
    assert executor["cache_hit_ratio"] == pytest.approx(2000 / 10050)
    assert executor["routing_savings_usd"] == pytest.approx(0.02219)
    con = duckdb.connect(str(db), read_only=True)
    cache = con.execute(
        "SELECT role, model, cache_hit_ratio FROM v_cache_hit_by_role WHERE model <> 'llama3'"
    ).fetchall()
    con.close()
    assert cache == [
        ("executor", "deepseek-chat", pytest.approx(0.2)),
        ("orchestrator", "gpt-5", pytest.approx(0.4)),
    ]


def test_costs_by_day_and_since(db: Path) -> None:
    days = analytics.costs(db, by="day", tz="UTC")
    assert [str(d)[:10] for d in days["day"]] == ["2026-11-20", "2026-11-21"]
    assert list(days["calls"]) == [2, 3]
    assert list(days["cost_usd"]) == pytest.approx([0.00583, 0.00583])
    assert list(days["routing_savings_usd"]) == pytest.approx([0.011095, 0.011095])
    later = analytics.costs(db, by="day", since="2026-11-21", tz="UTC")
    assert len(later) == 1 and later.attrs["totals"]["cost_usd"] == OP_COST
    assert analytics.costs(db, by="day", since="24h").empty  # the fixture lies in the past
    # in a zone 13 hours ahead, opC's call (21st, 14:00 UTC) already falls on the 22nd
    ahead = analytics.costs(db, by="day", tz="Pacific/Auckland")
    assert [str(d)[:10] for d in ahead["day"]] == ["2026-11-21", "2026-11-22"]


def test_costs_by_skill_attributes_delegated_skills(db: Path) -> None:
    skills = by_key(analytics.costs(db, by="skill"), "skill")
    assert set(skills) == {"testing", "documentation", "(no skill)"}
    assert skills["testing"]["calls"] == 2
    assert skills["testing"]["cost_usd"] == pytest.approx(0.00583)
    assert skills["documentation"]["unpriced_calls"] == 1
    assert skills["(no skill)"]["operations"] == 1


def test_costs_by_operation_and_task(db: Path) -> None:
    ops = by_key(analytics.costs(db, by="operation"), "operation_id")
    assert list(ops) == ["opC", "opB", "opA"]  # newest first
    for op in ("opA", "opB"):
        assert ops[op]["cost_usd"] == pytest.approx(0.00583)
        # the view's sum over calls agrees with what the engine reported at the finish
        assert ops[op]["reported_cost_usd"] == pytest.approx(ops[op]["cost_usd"])
        assert ops[op]["reported_routing_savings_usd"] == pytest.approx(0.011095)
    assert (ops["opC"]["calls"], ops["opC"]["status"]) == (1, "completed")
    tasks = analytics.costs(db, by="task")
    a = tasks[tasks["operation_id"] == "opA"].to_dict("records")
    assert [(r["description"], r["calls"]) for r in a] == [("Read loader", 2)]
    assert a[0]["cost_usd"] == pytest.approx(0.00583)
    c = tasks[tasks["operation_id"] == "opC"].to_dict("records")
    assert [(r["description"], r["calls"]) for r in c] == [("(outside tasks)", 1)]


def test_tool_usage(db: Path) -> None:
    tools = by_key(analytics.tool_usage(db), "tool")
    read = tools["read_file"]
    assert (read["calls"], read["ok"], read["failures"], read["denials"], read["truncated"]) == (
        4,
        2,
        0,
        2,
        2,
    )
    assert (read["total_ms"], read["avg_ms"], read["max_ms"], read["result_bytes"]) == (
        26.0,
        6.5,
        12.5,
        4096,
    )
    assert (tools["grep_files"]["failures"], tools["grep_files"]["calls"]) == (1, 1)
    assert tools["read_project_file"]["total_ms"] == 6000.0
    assert analytics.tool_usage(db, since="2026-11-21")["calls"].sum() == 4


def test_routing_savings_view(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("FROM v_routing_savings").fetchall()
    con.close()
    assert rows == [
        ("opA", 1, D("0.002030"), D("0.013125"), OP_SAVINGS),
        ("opB", 1, D("0.002030"), D("0.013125"), OP_SAVINGS),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["opC", "opB", "opA"]),
        ({"n": 2}, ["opC", "opB"]),
        ({"status": "failed"}, ["opB", "opA"]),
        ({"skill": "testing"}, ["opB"]),
        ({"model": "deepseek:deepseek-chat"}, ["opB", "opA"]),
        ({"model": "llama3"}, ["opC"]),
        ({"model": "gpt-5"}, ["opB", "opA"]),
        ({"model": "openai:gpt-5"}, ["opC", "opB", "opA"]),
        ({"search": "tests FAIL"}, ["opB", "opA"]),
        ({"search": "csv LOADER"}, ["opB", "opA"]),
        ({"search": "%"}, ["opC"]),  # matched literally, not as a LIKE wildcard
        ({"search": "nothing like this"}, []),
    ],
)
def test_history_filters(db: Path, filters: dict, expected: list[str]) -> None:
    assert list(analytics.history(db, **filters)["operation_id"]) == expected


def test_history_columns(db: Path) -> None:
    row = analytics.history(db, search="csv", n=1).to_dict("records")[0]
    assert (
        row["operation_id"],
        row["tasks"],
        row["tasks_completed"],
        row["llm_calls"],
        row["tool_calls"],
        row["input_tokens"],
        row["duration_s"],
    ) == ("opB", 2, 1, 2, 3, 6000, 12.0)
    assert row["cost_usd"] == pytest.approx(0.00583)


def test_since_is_validated() -> None:
    with pytest.raises(ValueError, match="not understood"):
        analytics.parse_since("last tuesday")
    assert analytics.parse_since("2026-11-01").isoformat() == "2026-11-01T00:00:00+00:00"


def test_export_round_trip(db: Path, tmp_path: Path) -> None:
    written = analytics.export(db, tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{t}.parquet" for t in analytics.LOG_TABLES)
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS log (READ_ONLY)")
    for table in analytics.LOG_TABLES:
        parquet = f"read_parquet('{tmp_path / 'out' / table}.parquet')"
        count = con.execute(f"SELECT count(*) FROM log.{table}").fetchone()[0]
        assert con.execute(f"SELECT count(*) FROM {parquet}").fetchone()[0] == count
        columns = [r[0] for r in con.execute(f"DESCRIBE log.{table}").fetchall()]
        # compare as text so that JSON columns read back as VARCHAR still compare
        select = ", ".join(f"{c}::VARCHAR" for c in columns)
        diff = con.execute(
            f"SELECT {select} FROM log.{table} EXCEPT ALL SELECT {select} FROM {parquet}"
        ).fetchall()
        assert diff == [], table
    content, cost = con.execute(
        f"SELECT f.previous_content, c.cost_total_usd FROM "
        f"read_parquet('{tmp_path / 'out' / 'file_changes.parquet'}') f, "
        f"read_parquet('{tmp_path / 'out' / 'llm_calls.parquet'}') c "
        f"WHERE c.id = 'opA-c2' AND f.operation_id = 'opA'"
    ).fetchone()
    assert content == b"old\x00content\n" and cost == D("0.002030")
    con.close()

    single = analytics.export(db, tmp_path / "one" / "calls.parquet", "llm_calls")
    assert single == [tmp_path / "one" / "calls.parquet"]
    assert duckdb.sql(f"SELECT count(*) FROM '{single[0]}'").fetchall() == [(5,)]
    with pytest.raises(ValueError, match="one table"):
        analytics.export(db, tmp_path / "two.parquet", ["llm_calls", "tool_calls"])
    with pytest.raises(ValueError, match="unknown tables"):
        analytics.export(db, tmp_path / "x", "schema_migrations")


def test_connect_returns_a_snapshot_that_holds_no_lock(db: Path) -> None:
    snap = analytics.connect(db)
    # the file is free: a writer can open it while the snapshot stays usable
    writer = duckdb.connect(str(db))
    writer.execute("UPDATE operations SET request = 'changed' WHERE id = 'opA'")
    writer.execute("UPDATE operations SET request = 'Fix the CSV loader (opA)' WHERE id = 'opA'")
    writer.close()
    assert snap.execute("SELECT count(*) FROM llm_calls").fetchone()[0] == 5
    assert snap.execute("SELECT sum(cost_usd) FROM v_cost_by_day").fetchone()[0] == 2 * OP_COST
    assert (
        snap.execute("SELECT count(*) FROM mira_costs_by_model(since := NULL)").fetchone()[0] == 3
    )
    snap.close()
    frame = analytics.query(
        db, "SELECT id FROM operations WHERE status = ? ORDER BY id", ["failed"]
    )
    assert list(frame["id"]) == ["opA", "opB"]


def test_plot_costs(db: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    frame = analytics.costs(db, by="model")
    ax = analytics.plot_costs(frame)
    assert len(ax.patches) == 2 * len(frame)  # cost bars plus routing-savings bars
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "openai:gpt-5"
    assert "0.0117" in ax.get_title()
    days = analytics.costs(db, by="day", tz="UTC")
    assert [t.get_text() for t in analytics.plot_costs(days).get_xticklabels()] == [
        "2026-11-20",
        "2026-11-21",
    ]
    bare = frame.copy()
    bare.attrs.clear()  # a frame that does not say how it was grouped
    with pytest.raises(ValueError, match="by="):
        analytics.plot_costs(bare)
