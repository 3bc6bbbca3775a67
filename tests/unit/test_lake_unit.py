"""The team log's pure parts: SQL translation, secrets masked, faults classified, setting parsed."""

from __future__ import annotations

import pytest

from mira_jupyter.store import lake
from mira_jupyter.store.db import Database, DatabaseLocked, Location, StoreUnavailable
from mira_jupyter.store.migrate import discover

URL = "ducklake:postgres:dbname=mira user=ann password=hunter2 host=db.internal"


def test_every_shipped_migration_translates_without_key_constraints() -> None:
    for migration in discover():
        sql = lake.lake_sql(migration.sql)
        assert "PRIMARY KEY" not in sql.upper() and " UNIQUE" not in sql.upper(), migration.path.name
        assert "since := NULL)" not in sql and "since := NULL::TIMESTAMPTZ" in sql or "MACRO" not in sql


@pytest.mark.parametrize(
    "location",
    [
        "ducklake:postgres:postgresql://postgres:Hunter2Sekr1t@127.0.0.1:5432/db",
        "ducklake:postgres:postgres://ann:Hunter2Sekr1t@db.internal/mira?sslmode=require",
        "ducklake:postgres:dbname=mira password='ab\\' Hunter2Sekr1t' host=h",
        "ducklake:postgres:host=h PASSWORD = Hunter2Sekr1t dbname=mira",
    ],
)
def test_a_password_in_a_uri_or_an_escaped_quote_is_masked_too(location: str) -> None:
    """r17d F1: a libpq URI's password was shown in %mira status, notices, errors and the
    journal directory's name; a quoted value with an escaped quote showed its tail."""
    assert "Hunter2Sekr1t" not in lake.redact(location)
    assert "Hunter2Sekr1t" not in str(Location.parse(location).default_journal_dir())
    unreachable = lake.classify(RuntimeError(f'Unable to connect to Postgres at "{location}"'), location)
    assert "Hunter2Sekr1t" not in str(unreachable)
    assert "Sekr1t" not in lake.redact(location)


def test_translation_keeps_the_columns() -> None:
    sql = "CREATE TABLE t (\n    id VARCHAR PRIMARY KEY,\n    seq INTEGER NOT NULL,\n    PRIMARY KEY (id, seq)\n);"
    assert lake.lake_sql(sql) == "CREATE TABLE t (\n    id VARCHAR,\n    seq INTEGER NOT NULL\n);"
    typed = "CREATE MACRO m(since := NULL::TIMESTAMPTZ) AS TABLE SELECT 1"
    assert lake.lake_sql(typed) == typed


def test_passwords_are_masked_everywhere_they_are_shown() -> None:
    assert "hunter2" not in lake.redact(URL)
    assert "hunter2" not in lake.redact("... password='hunter 2' host=x").replace("***", "")
    assert "hunter2" not in str(Location.parse(URL).default_journal_dir())
    unreachable = lake.classify(RuntimeError(f'Unable to connect to Postgres at "{URL}"'), URL)
    assert isinstance(unreachable, lake.LakeUnreachable) and isinstance(unreachable, StoreUnavailable)
    assert "hunter2" not in str(unreachable)


def test_conflicts_are_retried_like_a_lock() -> None:
    exc = RuntimeError("Failed to commit DuckLake transaction.\nTransaction conflict - attempting to insert")
    fault = lake.classify(exc, URL)
    assert isinstance(fault, lake.LakeConflict) and isinstance(fault, DatabaseLocked)
    other = ValueError("Binder Error: column x not found")
    assert lake.classify(other, URL) is other


def test_a_ducklake_setting_is_a_lake_not_a_file(tmp_path) -> None:
    location = Location.parse(URL)
    assert location.kind == "lake" and location.path is None
    assert Location.parse("DuckLake:postgres:dbname=x").kind == "lake"
    assert Location.parse(str(tmp_path / "ducklake.duckdb")).kind == "file"
    assert lake.backend_label(URL).startswith("DuckLake team log")
    assert lake.backend_label(str(tmp_path / "m.duckdb")).startswith("local DuckDB file")


def test_the_base_duckdb_says_what_the_team_log_needs() -> None:
    import duckdb

    if duckdb.__version__ == lake.DUCKDB_VERSION:
        pytest.skip("this interpreter has the team DuckDB")
    with (
        pytest.raises(StoreUnavailable, match=r"needs duckdb 1\.5\.5.*mira_jupyter\[team\]"),
        Database(URL).connect(),
    ):
        pass


@pytest.mark.parametrize(
    ("location", "attached"),
    [
        ("ducklake:postgres:dbname=m host=h", "ducklake:postgres:dbname=m host=h connect_timeout=10"),
        ("ducklake:postgres:", "ducklake:postgres:connect_timeout=10"),
        ("ducklake:postgres:postgresql://u@h/m", "ducklake:postgres:postgresql://u@h/m?connect_timeout=10"),
        ("ducklake:postgres:postgres://u@h/m?sslmode=require", "ducklake:postgres:postgres://u@h/m?sslmode=require&connect_timeout=10"),
        ("ducklake:postgres:dbname=m connect_timeout=3", "ducklake:postgres:dbname=m connect_timeout=3"),
        ("ducklake:postgres:postgresql://h/m?CONNECT_TIMEOUT=2", "ducklake:postgres:postgresql://h/m?CONNECT_TIMEOUT=2"),
        ("ducklake:metadata.ducklake", "ducklake:metadata.ducklake"),  # not a PostgreSQL catalog
    ],
)
def test_a_postgres_catalog_gets_a_connect_timeout_unless_it_sets_one(location: str, attached: str) -> None:
    # without one, a catalog that accepts connections but never answers hangs the caller (r17d F7)
    assert lake.with_connect_timeout(location) == attached


def test_libpqs_connect_timeout_is_an_unreachable_catalog() -> None:
    exc = RuntimeError('IO Error: Unable to connect to Postgres at "dbname=m": timeout expired')
    assert isinstance(lake.classify(exc, URL), lake.LakeUnreachable)
    bare = RuntimeError("Failed to attach: timeout expired")
    assert isinstance(lake.classify(bare, URL), lake.LakeUnreachable)
