"""Apply the numbered SQL migrations in order and record them in ``schema_migrations``."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import MiraError

if TYPE_CHECKING:
    import duckdb

_NAME = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


class MigrationError(MiraError, RuntimeError):
    """The database's recorded migrations disagree with the shipped migration files."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    path: Path
    checksum: str

    @property
    def sql(self) -> str:
        """The file's SQL text."""
        return self.path.read_text(encoding="utf-8")


def migrations_dir() -> Path:
    """The shipped migrations directory (source checkout or installed wheel)."""
    from mira_jupyter._resources import data_dir

    return data_dir("migrations")


def discover(directory: Path | None = None) -> list[Migration]:
    """List the migration files of `directory`, ordered by version; rejects duplicates."""
    directory = directory or migrations_dir()
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations share version {version}: {found[version].path.name}, {path.name}"
            )
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        found[version] = Migration(version, match.group(2), path, checksum)
    return [found[v] for v in sorted(found)]


def applied(
    con: duckdb.DuckDBPyConnection, translate: Callable[[str], str] | None = None
) -> dict[int, tuple[str, str]]:
    """Map version -> (name, checksum) of the migrations recorded in the database."""
    con.execute(translate(_CREATE_TABLE) if translate else _CREATE_TABLE)
    rows = con.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    return {int(v): (n, c) for v, n, c in rows}


def pending(
    con: duckdb.DuckDBPyConnection,
    directory: Path | None = None,
    translate: Callable[[str], str] | None = None,
) -> list[Migration]:
    """Check recorded migrations against the files and return those still to apply."""
    files = discover(directory)
    done = applied(con, translate)
    by_version = {m.version: m for m in files}
    for version, (name, checksum) in sorted(done.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{name} which this mira_jupyter does "
                "not ship; it was written by a newer version - upgrade mira_jupyter"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.path.name} changed after it was applied "
                f"(recorded sha256 {checksum[:12]}, file {migration.checksum[:12]}); "
                "add a new numbered migration instead of editing an applied one"
            )
    return [m for m in files if m.version not in done]


def migrate(
    con: duckdb.DuckDBPyConnection,
    directory: Path | None = None,
    translate: Callable[[str], str] | None = None,
    lock: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied.

    `translate` rewrites each file's SQL for another dialect (DuckLake: no key constraints);
    the recorded checksum stays the file's, so both backends agree on what was applied.
    `lock(con)` runs first in each migration's transaction where other processes may
    migrate at the same time without a file lock (DuckLake): it must make two such
    transactions conflict at commit, and the migration is then skipped if another process
    recorded it first.
    """
    todo = pending(con, directory, translate)
    applied_now = []
    for migration in todo:
        con.begin()
        try:
            if lock is not None:
                lock(con)
                # a process that committed this migration since `pending` looked
                if con.execute(
                    "SELECT count(*) FROM schema_migrations WHERE version = ?", [migration.version]
                ).fetchone()[0]:
                    con.rollback()
                    continue
            con.execute(translate(migration.sql) if translate else migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                [migration.version, migration.name, migration.checksum],
            )
            con.commit()
        except BaseException:
            with contextlib.suppress(Exception):  # a failed commit has ended the transaction
                con.rollback()
            raise
        applied_now.append(migration)
    return applied_now
