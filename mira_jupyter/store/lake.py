"""The shared team log on DuckLake: a PostgreSQL catalog plus Parquet files in a shared place.

``Mira.database = "ducklake:postgres:dbname=mira host=db.internal"`` makes every kernel on
every machine write one log. What differs from a DuckDB file, and is handled here:

- **Extensions offline.** DuckDB's ``INSTALL ducklake`` downloads. The ``[team]`` extra
  brings ``duckdb==1.5.5`` with the ``duckdb-extension-ducklake`` and
  ``duckdb-extension-postgres`` packages, which ship the binaries for exactly that DuckDB.
  They are installed from those files into a private extension directory, never fetched.
- **No constraints.** DuckLake has no PRIMARY KEY, UNIQUE or indexes, so the migrations are
  translated (:func:`lake_sql`) and the recorder looks keys up instead of ``ON CONFLICT``.
- **Optimistic commits.** Concurrent writers conflict at commit ("Transaction conflict");
  that is :class:`LakeConflict`, a :class:`DatabaseLocked`: retried with backoff.
- **A catalog that is away** (PostgreSQL down, network cut) is :class:`LakeUnreachable`, a
  :class:`StoreUnavailable`: events stay in the journal and are written once it is back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .faults import DatabaseLocked, StoreUnavailable, retry

if TYPE_CHECKING:
    import duckdb

PREFIX = "ducklake:"
ALIAS = "mira_lake"
# the only DuckDB whose extension binaries ship as Python packages (the 2.x line has none)
DUCKDB_VERSION = "1.5.5"
EXTENSIONS = (("ducklake", "ducklake"), ("postgres", "postgres_scanner"))
TEAM_HINT = f"pip install 'mira_jupyter[team]' (duckdb=={DUCKDB_VERSION} and its extension packages)"

_DATA_PATHS: dict[str, str] = {}
_INSTALL_LOCK = threading.Lock()
# libpq keyword form (a quoted value may hold \' escapes) and URI form (user:PASSWORD@host)
_SECRET = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_SECRET = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*:)(\S*)@", re.IGNORECASE)
_CONFLICT_MARKERS = ("transaction conflict", "conflict on", "write-write conflict")
_UNREACHABLE_MARKERS = (
    "unable to connect to postgres",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "no connection to the server",
    "connection to server",
    "failed to query most recent snapshot",
    # the commit's own catalog queries failing: the server went away mid-transaction
    'failed to commit: failed to execute query "rollback"',
    "failed to attach ducklake",
    "ssl syscall",
    "broken pipe",
    # libpq's connect_timeout passed: a server that accepts connections but does not answer
    "timeout expired",
)
# seconds libpq may take to connect to the catalog, where the location sets none: without it
# a catalog that accepts connections but never answers (a stopped postmaster) hangs the caller
CONNECT_TIMEOUT_SECONDS = 10


class LakeConflict(DatabaseLocked):
    """Another writer committed a change this transaction conflicts with: try again."""


class LakeUnreachable(StoreUnavailable):
    """The DuckLake catalog (PostgreSQL) cannot be reached right now."""


def is_lake(value: str) -> bool:
    """Whether a database setting names a DuckLake (``ducklake:...``)."""
    return value[: len(PREFIX)].lower() == PREFIX


def register_data_path(location: str, data_path: str | None) -> None:
    """Remember where a lake's Parquet files go (needed only when the lake is created)."""
    if data_path:
        _DATA_PATHS[location] = data_path


def data_path_for(location: str) -> str | None:
    """The data path given for `location` (Mira.lake_data_path or MIRA_LAKE_DATA_PATH)."""
    return _DATA_PATHS.get(location) or os.environ.get("MIRA_LAKE_DATA_PATH") or None


def redact(text: str) -> str:
    """`text` with the password of any connection string masked (``password=…``, ``user:…@``)."""
    return _URI_SECRET.sub(r"\1***@", _SECRET.sub(r"\1***", text))


def backend_label(location: str) -> str:
    """Which kind of log `location` is, in words (for %mira status)."""
    if is_lake(location):
        where = data_path_for(location)
        return "DuckLake team log (PostgreSQL catalog" + (f", data in {where})" if where else ")")
    if location.startswith(":memory:"):
        return "in-memory DuckDB (this process only)"
    if re.match(r"^(?:md|motherduck):", location, re.IGNORECASE):
        return "MotherDuck (shared service)"
    return "local DuckDB file (one machine; kernels take turns writing)"


def is_conflict(exc: BaseException) -> bool:
    """Whether `exc` is an optimistic-concurrency conflict at commit (retry it)."""
    text = str(exc).lower()
    return any(marker in text for marker in _CONFLICT_MARKERS)


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the catalog database cannot be reached."""
    text = str(exc).lower()
    return any(marker in text for marker in _UNREACHABLE_MARKERS)


def classify(exc: BaseException, location: str) -> BaseException:
    """The store fault `exc` is on a lake (a conflict, an unreachable catalog), or `exc`."""
    if isinstance(exc, DatabaseLocked | StoreUnavailable):
        return exc
    first = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
    if is_conflict(exc):
        return LakeConflict(f"the team log {redact(location)} had a commit conflict: {first}")
    if is_unreachable(exc):
        return LakeUnreachable(f"the team log's catalog cannot be reached ({redact(location)})")
    return exc


def with_connect_timeout(location: str, seconds: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """`location` with libpq's ``connect_timeout`` added when a PostgreSQL catalog sets none."""
    body = location[len(PREFIX) :]
    if not body.lower().startswith("postgres:") or "connect_timeout" in body.lower():
        return location
    conninfo = body[len("postgres:") :]
    if re.match(r"^postgres(?:ql)?://", conninfo, re.IGNORECASE):  # the URI form
        conninfo += ("&" if "?" in conninfo else "?") + f"connect_timeout={seconds}"
    else:
        conninfo = f"{conninfo.rstrip()} connect_timeout={seconds}".lstrip()
    return f"{location[: len(PREFIX)]}postgres:{conninfo}"


def lake_sql(sql: str) -> str:
    """A migration's SQL as DuckLake takes it: no key constraints, typed macro defaults."""
    sql = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", sql)
    sql = re.sub(r"\s+(?:PRIMARY KEY|UNIQUE)\b", "", sql)
    # DuckLake stores a macro's parameters with a type: an untyped NULL default fails there
    return re.sub(r"\bsince\s*:=\s*NULL\b(?!::)", "since := NULL::TIMESTAMPTZ", sql)


# Migrations on a lake take this lock first. DuckLake commits optimistically and a
# migration of only CREATE OR REPLACE (a view, a macro) conflicts with nothing, so two
# kernels creating a lake at once could both apply it and record it twice; two
# transactions that update this table's row always conflict at commit (the loser retries).
_MIGRATION_LOCK = (
    "CREATE TABLE IF NOT EXISTS schema_migrations_lock (version BIGINT NOT NULL)",
    # two first kernels may both seed it: any row updated makes the conflict
    "INSERT INTO schema_migrations_lock SELECT 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM schema_migrations_lock)",
    "UPDATE schema_migrations_lock SET version = version + 1",
)


def migration_lock(con: duckdb.DuckDBPyConnection) -> None:
    """Serialize a migration's transaction against other kernels migrating the same lake."""
    for sql in _MIGRATION_LOCK:
        con.execute(sql)


def _extension_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{package}")
    if spec is None or not spec.submodule_search_locations:
        raise StoreUnavailable(
            f"the team log needs the duckdb-extension-{package} package: {TEAM_HINT}"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{DUCKDB_VERSION}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise StoreUnavailable(
            f"duckdb-extension-{package} has no binary for duckdb {DUCKDB_VERSION}: {TEAM_HINT}"
        )
    return path


def check_duckdb() -> None:
    """Raise one clear line unless this DuckDB can load the shipped lake extensions."""
    import duckdb

    if duckdb.__version__ != DUCKDB_VERSION:
        raise StoreUnavailable(
            f"the team log (ducklake:) needs duckdb {DUCKDB_VERSION}, this is "
            f"{duckdb.__version__}: {TEAM_HINT}"
        )


def extension_directory() -> Path:
    """A private extension directory per user and DuckDB version (never the shared ~/.duckdb)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mira_jupyter" / f"duckdb-extensions-{DUCKDB_VERSION}"


def _load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    directory = extension_directory()
    directory.mkdir(parents=True, exist_ok=True)
    quoted = str(directory).replace("'", "''")
    con.execute(f"SET extension_directory = '{quoted}'")
    for package, name in EXTENSIONS:
        try:
            con.execute(f"LOAD {name}")
            continue
        except Exception:  # not installed in the private directory yet
            pass
        source = str(_extension_file(package, package)).replace("'", "''")
        with _INSTALL_LOCK, _file_lock(directory / ".install.lock"):
            con.execute(f"FORCE INSTALL '{source}'")
        con.execute(f"LOAD {name}")


@contextlib.contextmanager
def _file_lock(path: Path):  # type: ignore[no-untyped-def]
    """Kernels of one user install the extension files one at a time."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_lake(location: str, *, read_only: bool = False, attempts: int = 8) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached as ``mira_lake`` and in use.

    Kernels that attach a lake that does not exist yet race to create its catalog tables;
    the losers fail ("already exists", a duplicate key) and simply attach again.
    """
    check_duckdb()  # a wrong DuckDB is not worth a second try
    return retry(
        lambda: _open_lake(location, read_only),
        lambda exc, _attempt: isinstance(exc, StoreUnavailable) and not isinstance(exc, LakeUnreachable),
        first=0.05,
        most=1.0,
        attempts=attempts,
    )


def _open_lake(location: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        _load_extensions(con)
        options = []
        data_path = data_path_for(location)
        if data_path:
            path = data_path if "://" in data_path else str(Path(data_path).expanduser().absolute())
            if "://" not in path:
                Path(path).mkdir(parents=True, exist_ok=True)
                path = path.rstrip("/") + "/"
            options.append("DATA_PATH '" + path.replace("'", "''") + "'")
        if read_only:
            options.append("READ_ONLY")
        quoted = with_connect_timeout(location).replace("'", "''")
        suffix = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH '{quoted}' AS {ALIAS}{suffix}")
        con.execute(f"USE {ALIAS}")
    except Exception as exc:
        con.close()
        fault = classify(exc, location)
        if isinstance(fault, LakeConflict):
            fault = StoreUnavailable(str(fault))  # retried by open_lake like any failed attach
        if fault is exc and not isinstance(exc, StoreUnavailable):
            raise StoreUnavailable(
                f"the team log {redact(location)} cannot be opened: "
                f"{redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)}"
            ) from None
        raise fault from None
    return con


def is_lake_connection(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` is using the lake (so writes cannot lean on key constraints)."""
    row = con.execute("SELECT current_database()").fetchone()
    return bool(row) and row[0] == ALIAS
