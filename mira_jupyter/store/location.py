"""Where the log lives: a file, an in-process memory database, a service, or a team lake.

The kinds of ``Mira.database`` and what each means for opening, journaling and locks are
described in :mod:`mira_jupyter.store.db`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import faults, lake

# the connection strings that name no file; DuckDB opens anything else with a ':' in it
# ("notes.v2:log.duckdb") as a file, which must then be a path the sandbox protects
_SCHEME = re.compile(r"^(?:md|motherduck):", re.IGNORECASE)


def default_location(project_root: str | Path) -> Path:
    """The log of a project: ``<project_root>/.mira/mira.duckdb``."""
    return Path(project_root).expanduser().absolute() / ".mira" / "mira.duckdb"


@dataclass(frozen=True)
class Location:
    """A parsed database location: a file, an in-process memory database, or a service."""

    raw: str
    kind: Literal["file", "memory", "remote", "lake"]
    path: Path | None = None

    @classmethod
    def parse(cls, value: str | Path | Location) -> Location:
        """Classify `value` (see the module docstring)."""
        if isinstance(value, Location):
            return value
        if isinstance(value, Path):
            return cls(str(value), "file", value.expanduser().absolute())
        if value == ":memory:" or value.startswith(":memory:"):
            return cls(value, "memory")
        if lake.is_lake(value):
            return cls(value, "lake")
        # one-letter schemes are Windows drives (C:\...), not connection strings
        if _SCHEME.match(value) and not re.match(r"^[A-Za-z]:[\\/]", value):
            return cls(value, "remote")
        path = Path(value).expanduser().absolute()
        return cls(str(path), "file", path)

    @property
    def key(self) -> str:
        """Identity of the database within this process."""
        return str(self.path) if self.path is not None else self.raw

    def default_journal_dir(self) -> Path | None:
        """Where recorders journal events for this location by default."""
        if self.kind == "file":
            assert self.path is not None
            return self.path.with_name(self.path.name + ".journal")
        if self.kind in ("remote", "lake"):
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", lake.redact(self.raw))[:60]
            digest = hashlib.sha256(self.raw.encode()).hexdigest()[:8]
            return Path.home() / ".cache" / "mira_jupyter" / "journal" / f"{slug}-{digest}"
        return None

    def fallback_journal_dirs(self) -> list[Path]:
        """Where journals go when the default directory cannot be written (files only)."""
        return faults.fallback_journal_dirs(self.key) if self.kind == "file" else []


def first_file(directory: Path) -> Path:
    """The nearest ancestor of `directory` (or itself) that exists but is not a directory."""
    for candidate in (directory, *directory.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return directory
