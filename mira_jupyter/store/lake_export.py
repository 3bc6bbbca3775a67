"""Move a local log into a team lake: ``%mira export --to ducklake:...``.

Every log table is copied in one transaction, each row only if its key is not in the lake
yet, so an interrupted or repeated export writes nothing twice and can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import lake
from .analytics import LOG_TABLES
from .batch import KEYS
from .db import Database, Location
from .faults import StoreUnavailable

_ALL_KEYS = {**KEYS, "operation_events": ("operation_id", "seq")}
_SOURCE = "mira_export_source"


@dataclass(frozen=True)
class Exported:
    """Rows copied per table (rows the lake already had are not counted)."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        """All rows copied."""
        return sum(self.rows.values())


def export_to_lake(source: str | Path, target: str, *, timeout: float = 120.0) -> Exported:
    """Copy the local log at `source` into the lake `target`; returns what was new there."""
    origin = Location.parse(source)
    if origin.kind != "file":
        raise ValueError(f"export --to copies a local log file; {lake.redact(str(source))} is not one")
    if not lake.is_lake(target):
        raise ValueError(f"export --to needs a ducklake: location, not {lake.redact(target)!r}")
    assert origin.path is not None
    if not origin.path.is_file():
        raise ValueError(f"there is no log at {origin.path} to export")
    Database(origin, journal_dir=None).recover(timeout=timeout)  # migrated to this version
    destination = Database(target, journal_dir=None)
    copied: dict[str, int] = {}
    with destination.transaction(timeout=timeout) as con:
        quoted = str(origin.path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {_SOURCE} (READ_ONLY)")
        try:
            for table in LOG_TABLES:
                copied[table] = _copy_table(con, table)
        finally:
            con.execute(f"DETACH {_SOURCE}")
    return Exported(copied)


def _columns(con, database: str, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
        "AND schema_name = 'main' ORDER BY column_index",
        [database, table],
    ).fetchall()
    return [r[0] for r in rows]


def _copy_table(con, table: str) -> int:  # type: ignore[no-untyped-def]
    theirs = set(_columns(con, _SOURCE, table))
    ours = _columns(con, lake.ALIAS, table)
    if not theirs or not ours:
        raise StoreUnavailable(f"the log table {table} is missing on one side of the export")
    columns = [c for c in ours if c in theirs]
    names = ", ".join(columns)
    match = " AND ".join(f"l.{k} = s.{k}" for k in _ALL_KEYS[table])
    row = con.execute(
        f"INSERT INTO {lake.ALIAS}.main.{table} ({names}) "
        f"SELECT {', '.join('s.' + c for c in columns)} FROM {_SOURCE}.main.{table} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {lake.ALIAS}.main.{table} l WHERE {match})"
    ).fetchone()
    return int(row[0]) if row else 0
