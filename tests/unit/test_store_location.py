"""Parsing database locations and the time bounds of the analytics functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mira_jupyter.store.analytics import parse_since
from mira_jupyter.store.db import Location, default_location, is_lock_error


def test_paths_are_files_with_a_journal_beside_them(tmp_path: Path) -> None:
    loc = Location.parse(str(tmp_path / "log.duckdb"))
    assert (loc.kind, loc.path) == ("file", tmp_path / "log.duckdb")
    assert loc.default_journal_dir() == tmp_path / "log.duckdb.journal"
    assert Location.parse(tmp_path / "x.duckdb").kind == "file"
    assert Location.parse("relative/log.duckdb").path == Path.cwd() / "relative" / "log.duckdb"
    assert Location.parse("~/log.duckdb").path == Path.home() / "log.duckdb"
    assert default_location(tmp_path) == tmp_path / ".mira" / "mira.duckdb"


@pytest.mark.parametrize("raw", ["md:team_db", "md:", "motherduck:team?x=1"])
def test_connection_strings_are_passed_through(raw: str) -> None:
    loc = Location.parse(raw)
    assert (loc.kind, loc.raw, loc.path) == ("remote", raw, None)
    journal = loc.default_journal_dir()
    assert journal.parent == Path.home() / ".cache" / "mira_jupyter" / "journal"
    assert journal != Location.parse(raw + "2").default_journal_dir()


def test_memory_and_drive_letters() -> None:
    assert Location.parse(":memory:").kind == "memory"
    assert Location.parse(":memory:tests").key == ":memory:tests"
    assert Location.parse(":memory:").default_journal_dir() is None
    # a Windows drive is a path, not a one-letter scheme
    assert Location.parse("C:\\logs\\mira.duckdb").kind == "file"


def test_lock_errors_are_recognised() -> None:
    assert is_lock_error(OSError('IO Error: Could not set lock on file "x": Conflicting lock'))
    assert not is_lock_error(OSError("IO Error: No space left on device"))


def test_parse_since() -> None:
    now = datetime.now(UTC)
    assert parse_since(None) is None
    assert abs(parse_since("24h") - (now - timedelta(hours=24))) < timedelta(seconds=5)
    assert abs(parse_since("7d") - (now - timedelta(days=7))) < timedelta(seconds=5)
    assert abs(parse_since("2w") - (now - timedelta(weeks=2))) < timedelta(seconds=5)
    assert abs(parse_since("30m") - (now - timedelta(minutes=30))) < timedelta(seconds=5)
    assert parse_since("2026-11-01T08:00:00+02:00") == datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert parse_since(datetime(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="not understood"):
        parse_since("yesterday")


@pytest.mark.parametrize("raw", ["notes.v2:log.duckdb", "logs/mira:v2.duckdb", "a+b:c.duckdb", "x-y:z"])
def test_a_name_with_a_colon_is_a_file_the_sandbox_protects(tmp_path: Path, raw: str) -> None:
    from mira_jupyter.config import Mira
    from mira_jupyter.tools.roots import protected_paths
    from mira_jupyter.tools.sandbox import Sandbox, SandboxDenied

    assert Location.parse(raw).kind == "file"  # DuckDB opens these as files
    config = Mira(project_root=str(tmp_path), database=raw)
    resolved = config.resolved_database()
    assert resolved == str((tmp_path / raw).resolve())
    sandbox = Sandbox(tmp_path, protected=protected_paths(resolved, None))
    for target in (raw, raw + ".wal"):
        with pytest.raises(SandboxDenied):
            sandbox.check_writable(target)

