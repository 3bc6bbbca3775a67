"""Move a local log into a team lake: ``%mira export --to ducklake:...``.

Every log table is copied in one transaction, each row only if its key is not in the lake
yet, so an interrupted or repeated export writes nothing twice and can simply be run again.

The source is a local log file, or a directory of the Parquet files ``%mira export DIR``
writes. The second is how a log written by DuckDB 2.x reaches the lake: the team extra's
DuckDB 1.5.5 cannot open a 2.x database file, but both read and write the same Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import lake
from .analytics import LOG_TABLES
from .batch import KEYS
from .db import Database
from .faults import StoreUnavailable
from .location import Location

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
    if not lake.is_lake(target):
        raise ValueError(f"export --to needs a ducklake: location, not {lake.redact(target)!r}")
    folder = Path(source).expanduser() if not isinstance(source, str) or not lake.is_lake(source) else None
    if folder is not None and folder.is_dir():
        return _export_parquet(folder, target, timeout)
    origin = Location.parse(source)
    if origin.kind != "file":
        raise ValueError(f"export --to copies a local log file; {lake.redact(str(source))} is not one")
    assert origin.path is not None
    if not origin.path.is_file():
        raise ValueError(f"there is no log at {origin.path} to export")
    try:
        Database(origin, journal_dir=None).recover(timeout=timeout)  # migrated to this version
    except Exception as exc:
        if "newer version of duckdb" in str(exc).lower():
            raise ValueError(
                f"{origin.path} was written by a newer DuckDB than this one: where it was "
                "written, run %mira export DIR (Parquet), then here %mira export --to ... --from DIR"
            ) from None
        raise
    quoted = str(origin.path).replace("'", "''")
    sources = {table: f"{_SOURCE}.main.{table}" for table in LOG_TABLES}
    return _copy_all(target, timeout, sources, attach=f"ATTACH '{quoted}' AS {_SOURCE} (READ_ONLY)")


def _export_parquet(folder: Path, target: str, timeout: float) -> Exported:
    missing = [t for t in LOG_TABLES if not (folder / f"{t}.parquet").is_file()]
    if missing:
        raise ValueError(
            f"{folder} lacks {', '.join(t + '.parquet' for t in missing)}: give the directory "
            "%mira export DIR wrote"
        )
    sources = {
        table: "read_parquet('" + str((folder / f"{table}.parquet").absolute()).replace("'", "''") + "')"
        for table in LOG_TABLES
    }
    return _copy_all(target, timeout, sources)


def _copy_all(target: str, timeout: float, sources: dict[str, str], attach: str | None = None) -> Exported:
    destination = Database(target, journal_dir=None)
    copied: dict[str, int] = {}
    with destination.transaction(timeout=timeout) as con:
        if attach:
            con.execute(attach)
        try:
            for table in LOG_TABLES:
                copied[table] = _copy_table(con, table, sources[table])
        finally:
            if attach:
                con.execute(f"DETACH {_SOURCE}")
    return Exported(copied)


def _columns(con, relation: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _copy_table(con, table: str, source: str) -> int:  # type: ignore[no-untyped-def]
    theirs = set(_columns(con, source))
    ours = _columns(con, f"{lake.ALIAS}.main.{table}")
    if not theirs or not ours:
        raise StoreUnavailable(f"the log table {table} is missing on one side of the export")
    columns = [c for c in ours if c in theirs]
    names = ", ".join(columns)
    match = " AND ".join(f"l.{k} = s.{k}" for k in _ALL_KEYS[table])
    row = con.execute(
        f"INSERT INTO {lake.ALIAS}.main.{table} ({names}) "
        f"SELECT {', '.join('s.' + c for c in columns)} FROM {source} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {lake.ALIAS}.main.{table} l WHERE {match})"
    ).fetchone()
    return int(row[0]) if row else 0
