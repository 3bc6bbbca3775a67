"""The migration runner against real DuckDB files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from mira_jupyter._resources import data_dir
from mira_jupyter.store.migrate import MigrationError, discover, migrate, migrations_dir


def _write(directory: Path, name: str, sql: str) -> Path:
    path = directory / name
    path.write_text(sql, encoding="utf-8")
    return path


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "m.duckdb"))
    yield connection
    connection.close()


def test_discover_orders_by_number_not_by_listing(tmp_path: Path) -> None:
    _write(tmp_path, "0010_later.sql", "CREATE TABLE c (x INT);")
    _write(tmp_path, "0002_second.sql", "CREATE TABLE b (x INT);")
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (x INT);")
    assert [(m.version, m.name) for m in discover(tmp_path)] == [
        (1, "first"),
        (2, "second"),
        (10, "later"),
    ]


@pytest.mark.parametrize("bad", ["1_short.sql", "0001-dash.sql", "notes.sql"])
def test_discover_rejects_badly_named_files(tmp_path: Path, bad: str) -> None:
    _write(tmp_path, bad, "SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name"):
        discover(tmp_path)


def test_discover_rejects_duplicate_versions(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "SELECT 1;")
    _write(tmp_path, "0001_b.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="share version 1"):
        discover(tmp_path)


def test_applies_in_order_and_records_each(tmp_path: Path, con) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    # 0002 depends on 0001: only works if applied in numeric order
    _write(migrations, "0002_fill.sql", "INSERT INTO t VALUES (2);")
    first = _write(
        migrations, "0001_create.sql", "CREATE TABLE t (x INT); INSERT INTO t VALUES (1);"
    )
    applied = migrate(con, migrations)
    assert [m.version for m in applied] == [1, 2]
    assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 2]
    rows = con.execute(
        "SELECT version, name, checksum, applied_at IS NOT NULL FROM schema_migrations ORDER BY 1"
    ).fetchall()
    assert rows[0] == (1, "create", hashlib.sha256(first.read_bytes()).hexdigest(), True)
    assert [r[:2] for r in rows] == [(1, "create"), (2, "fill")]
    # a second run is a no-op; a new file is picked up on its own
    assert migrate(con, migrations) == []
    _write(migrations, "0003_more.sql", "INSERT INTO t VALUES (3);")
    assert [m.version for m in migrate(con, migrations)] == [3]
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 3


def test_refuses_when_an_applied_file_changed(tmp_path: Path, con) -> None:
    path = _write(tmp_path, "0001_create.sql", "CREATE TABLE t (x INT);")
    migrate(con, tmp_path)
    path.write_text("CREATE TABLE t (x INT, y INT);", encoding="utf-8")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(con, tmp_path)


def test_refuses_a_database_from_a_newer_version(tmp_path: Path, con) -> None:
    _write(tmp_path, "0001_create.sql", "CREATE TABLE t (x INT);")
    migrate(con, tmp_path)
    con.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (7, 'x', 'y')")
    with pytest.raises(MigrationError, match="newer version"):
        migrate(con, tmp_path)


def test_a_failing_migration_is_rolled_back_and_not_recorded(tmp_path: Path, con) -> None:
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE t (x INT);")
    _write(tmp_path, "0002_broken.sql", "CREATE TABLE u (x INT); INSERT INTO nowhere VALUES (1);")
    with pytest.raises(duckdb.CatalogException):
        migrate(con, tmp_path)
    assert con.execute("SELECT list(version) FROM schema_migrations").fetchone()[0] == [1]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "u" not in tables and "t" in tables


def test_shipped_migrations_are_found_and_build_the_schema(con) -> None:
    assert migrations_dir() == data_dir("migrations")
    shipped = discover()
    versions = [m.version for m in shipped]
    # numbers are reserved per issue, so one may land before a lower one: ascending, unique
    assert versions[0] == 1 and versions == sorted(set(versions))
    migrate(con)
    types = dict(
        con.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
        ).fetchall()
    )
    assert types["llm_calls.cost_total_usd"] == "DECIMAL(18,9)"
    assert types["operations.routing_savings_usd"] == "DECIMAL(18,9)"
    assert types["llm_calls.started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tool_calls.arguments"] == "JSON"
    assert types["operation_events.payload"] == "JSON"
    assert types["file_changes.previous_content"] == "BLOB"
    for view in (
        "v_cost_by_model",
        "v_cost_by_role",
        "v_cost_by_skill",
        "v_cost_by_day",
        "v_cost_by_operation",
        "v_cost_by_task",
        "v_plan_quality",
        "v_tool_usage",
        "v_cache_hit_by_role",
        "v_routing_savings",
    ):
        assert con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] == 0
