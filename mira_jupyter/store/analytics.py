"""Spending and history from the log, as DataFrames; never in the way of a writing kernel.

Every function takes the database ``location`` (a path, ``":memory:"`` or a DuckDB
connection string, see :mod:`mira_jupyter.store.db`), opens it read-only for the length of
one query and closes it again, so kernels logging to the same file only wait milliseconds.
Money columns are float dollars in the DataFrames; exact ``Decimal`` totals are in
``df.attrs["totals"]``.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .db import Database
from .location import Location

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

By = Literal["model", "role", "skill", "day", "operation", "task", "user", "host"]
GROUPINGS: tuple[str, ...] = ("model", "role", "skill", "day", "operation", "task", "user", "host")
LOG_TABLES: tuple[str, ...] = (
    "sessions",
    "operations",
    "operation_tasks",
    "llm_calls",
    "tool_calls",
    "operation_events",
    "file_changes",
)
_ORDER = {
    "sessions": "started_at, id",
    "operations": "started_at, id",
    "operation_tasks": "operation_id, sequence, id",
    "llm_calls": "started_at, id",
    "tool_calls": "started_at, id",
    "operation_events": "operation_id, seq",
    "file_changes": "operation_id, seq",
}
_SUMMED = (
    "calls",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_input_usd",
    "cost_cached_input_usd",
    "cost_output_usd",
    "cost_usd",
    "routing_savings_usd",
    "unpriced_calls",
)
_MAX_ROWS = 2**62
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _database(location: str | Path | Location | Database, wait: float = 10.0) -> Database:
    """The database, once this process's pending writes to it are in (read your writes)."""
    from .recorder import wait_for_writes

    database = location if isinstance(location, Database) else Database(location)
    wait_for_writes(database.location, wait)
    return database


def parse_since(since: str | date | datetime | timedelta | None) -> datetime | None:
    """Turn "7d", "24h", "30m", "2w", "2026-11-01", a date/datetime or a timedelta into UTC."""
    if since is None:
        return None
    now = datetime.now(UTC)
    if isinstance(since, timedelta):
        return now - since
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day, tzinfo=UTC)
    match = _RELATIVE.match(since)
    if match:
        amount, unit = float(match.group(1)), _UNITS[match.group(2).lower()]
        try:
            return now - timedelta(**{unit: amount})
        except OverflowError:  # "99999999d" reaches before year 1: it means "everything"
            return datetime.min.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(since.strip())
    except ValueError:
        raise ValueError(
            f"since={since!r} is not understood; use e.g. '24h', '7d', '2w' or '2026-11-01'"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _frame(relation: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    with warnings.catch_warnings():
        # duckdb's pandas conversion trips pandas' own deprecation warnings
        warnings.simplefilter("ignore")
        return relation.df()


def _set_timezone(con: duckdb.DuckDBPyConnection, tz: str | None) -> None:
    if tz is not None:
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
            raise ValueError(f"not a time zone name: {tz!r}")
        con.execute(f"SET TimeZone = '{tz}'")


def costs(
    location: str | Path | Location | Database,
    by: By = "model",
    since: str | date | datetime | timedelta | None = None,
    *,
    tz: str | None = None,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Spending grouped `by` model, role, skill, day, operation, task, user or host, since a time.

    Columns: the grouping keys, ``cost`` (the cost in words: ``unpriced`` when no call of
    the row has a price, ``at most $X`` when a call was cancelled or cut), calls, token sums
    (cached ⊂ input, reasoning ⊂ output), cache_hit_ratio, the cost components, cost_usd
    (NULL when unpriced), cost_upper_usd, routing_savings_usd and unpriced_calls.
    ``df.attrs["totals"]`` holds the exact sums. Days follow `tz` (default: the machine's
    time zone).
    """
    if by not in GROUPINGS:
        raise ValueError(f"by={by!r}: choose one of {', '.join(GROUPINGS)}")
    bound = parse_since(since)
    macro = f"mira_costs_by_{by}(since := ?)"
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        _set_timezone(con, tz)
        # one scan of the log: the grouped rows land in a temp table (allowed on a
        # read-only connection), and the exact totals are summed from those few rows
        con.execute(f"CREATE TEMP TABLE mira_result AS FROM {macro}", [bound])
        df = _frame(con.execute("FROM mira_result"))
        sums = ", ".join(f"coalesce(sum({c}), 0)" for c in _SUMMED)
        row = con.execute(
            # at most: a bounded group's upper bound, every other group's exact cost (NULL
            # when no group is bounded)
            f"SELECT {sums}, CASE WHEN count(cost_upper_usd) > 0 THEN "
            "sum(coalesce(cost_upper_usd, cost_usd)) END, "
            "count(*) FILTER (WHERE cost_usd IS NOT NULL) FROM mira_result"
        ).fetchone()
    totals: dict[str, Any] = dict(zip(_SUMMED, row[: len(_SUMMED)], strict=True))
    upper_sum, priced_groups = row[len(_SUMMED)], row[len(_SUMMED) + 1]
    if len(df) and not priced_groups:
        totals["cost_usd"] = None  # nothing in the frame has a price: unknown, not $0
    totals["cost_upper_usd"] = upper_sum
    for key in (
        "calls",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "unpriced_calls",
    ):
        totals[key] = int(totals[key])
    totals["cache_hit_ratio"] = (
        totals["cached_input_tokens"] / totals["input_tokens"] if totals["input_tokens"] else None
    )
    if "cost_usd" in df.columns and len(df):
        # a group with no priced call has unknown components too, not $0 parts of NaN
        unknown = df["cost_usd"].isna()
        for column in ("cost_input_usd", "cost_cached_input_usd", "cost_output_usd"):
            if column in df.columns and unknown.any():
                df[column] = df[column].astype("float64").where(~unknown)
    df.insert(_label_position(df), "cost", cost_labels(df))
    if by == "skill":
        df["skill"] = df["skill"].fillna("(no skill)")
    if by == "task":
        df["description"] = df["description"].where(df["task_id"].notna(), "(outside tasks)")
    df.attrs["by"] = by
    df.attrs["since"] = bound
    df.attrs["totals"] = totals
    return df


def _label_position(df: pd.DataFrame) -> int:
    return list(df.columns).index("calls") if "calls" in df.columns else 0


def _usd(value: Any) -> str:
    from ..core.money import usd

    return usd(value)


def cost_labels(df: pd.DataFrame) -> list[str]:
    """What each row cost, in words: "unpriced" (never $0.00), "at most", unpriced calls."""
    import pandas as pd

    labels = []
    uppers = df["cost_upper_usd"] if "cost_upper_usd" in df else [None] * len(df)
    unpriced = df["unpriced_calls"] if "unpriced_calls" in df else [0] * len(df)
    for cost, upper, n_unpriced in zip(df["cost_usd"], uppers, unpriced, strict=True):
        if cost is None or pd.isna(cost):
            labels.append("unpriced")
            continue
        text = _usd(cost)
        if upper is not None and not pd.isna(upper) and upper != cost:
            text += f" (at most {_usd(upper)})"
        if n_unpriced:
            text += f" + {int(n_unpriced)} unpriced call{'s' if n_unpriced != 1 else ''}"
        labels.append(text)
    return labels


def plan_quality(
    location: str | Path | Location | Database,
    since: str | date | datetime | timedelta | None = None,
    *,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Per planned operation (``v_plan_quality``): tasks planned, completed, failed, added
    and dropped while it ran, the tokens its tasks spent and the tokens per task."""
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        return _frame(con.execute("FROM mira_plan_quality(since := ?)", [parse_since(since)]))


def tool_usage(
    location: str | Path | Location | Database,
    since: str | date | datetime | timedelta | None = None,
    *,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Per tool: calls, ok, failures, denials, truncated results, total/avg/max time, bytes."""
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        return _frame(con.execute("FROM mira_tool_usage(since := ?)", [parse_since(since)]))


_HISTORY = """
SELECT o.id AS operation_id, o.conversation_id, o.parent_operation_id,
       o.started_at, o.finished_at, o.status, o.mode, o.skill,
       o.request, o.result_text, o.error, o.orchestrator_model, o.executor_model,
       (SELECT count(*) FROM operation_tasks t WHERE t.operation_id = o.id) AS tasks,
       (SELECT count(*) FROM operation_tasks t
         WHERE t.operation_id = o.id AND t.status = 'completed') AS tasks_completed,
       coalesce(c.calls, 0) AS llm_calls,
       (SELECT count(*) FROM tool_calls x WHERE x.operation_id = o.id) AS tool_calls,
       coalesce(c.input_tokens, 0)::BIGINT AS input_tokens,
       coalesce(c.cached_input_tokens, 0)::BIGINT AS cached_input_tokens,
       coalesce(c.output_tokens, 0)::BIGINT AS output_tokens,
       coalesce(c.reasoning_tokens, 0)::BIGINT AS reasoning_tokens,
       coalesce(c.cost_usd, o.cost_usd) AS cost_usd,
       c.cost_upper_usd,
       coalesce(c.unpriced_calls, 0) AS unpriced_calls,
       epoch(o.finished_at - o.started_at) AS duration_s
FROM operations o
LEFT JOIN (
    SELECT operation_id, count(*) AS calls, sum(input_tokens) AS input_tokens,
           sum(cached_input_tokens) AS cached_input_tokens, sum(output_tokens) AS output_tokens,
           sum(reasoning_tokens) AS reasoning_tokens, sum(cost_total_usd) AS cost_usd,
           CASE WHEN count(cost_upper_usd) > 0
                THEN sum(coalesce(cost_upper_usd, cost_total_usd)) END AS cost_upper_usd,
           count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
    FROM llm_calls GROUP BY operation_id
) c ON c.operation_id = o.id
WHERE ($status IS NULL OR o.status = $status)
  AND ($conversation IS NULL OR o.conversation_id = $conversation)
  AND ($skill IS NULL OR list_contains(string_split(o.skill, ','), $skill))
  AND ($search IS NULL OR contains(lower(o.request), lower($search))
       OR contains(lower(coalesce(o.result_text, '')), lower($search)))
  AND ($model IS NULL OR o.orchestrator_model = $model OR o.executor_model = $model
       OR EXISTS (SELECT 1 FROM llm_calls l WHERE l.operation_id = o.id
                  AND (l.model = $model OR l.provider || ':' || l.model = $model)))
ORDER BY o.started_at DESC NULLS LAST, o.id DESC
LIMIT $n
"""


def history(
    location: str | Path | Location | Database,
    n: int = 20,
    model: str | None = None,
    status: str | None = None,
    skill: str | None = None,
    search: str | None = None,
    *,
    conversation: str | None = None,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """The newest `n` operations, optionally filtered; `search` matches request or result text."""
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be a positive number of operations, got {n}")
    n = min(n, _MAX_ROWS)  # more than DuckDB's LIMIT can take means "all of them"
    params = {
        "n": n,
        "model": model,
        "status": status,
        "skill": skill,
        "search": search,
        "conversation": conversation,
    }
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        return _frame(con.execute(_HISTORY, params))


def query(
    location: str | Path | Location | Database,
    sql: str,
    params: list[Any] | dict[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Run one SQL query against the live database and return a DataFrame (lock held briefly)."""
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        return _frame(con.execute(sql, params))


def connect(
    location: str | Path | Location | Database, *, timeout: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for your own SQL, holding no lock on the log file.

    DuckDB would block every writing kernel for as long as a connection to the file stayed
    open, even a read-only one. So this copies the whole log (tables, views such as
    ``v_cost_by_day``, the ``mira_costs_by_*`` macros) into an in-memory database and
    lets the file go at once: the connection is a snapshot as of the call; call again for
    newer rows, or use :func:`query` for one fresh query.
    """
    return _database(location, timeout or 10.0).snapshot(timeout=timeout)


def export(
    location: str | Path | Location | Database,
    target: str | Path,
    tables: str | list[str] | tuple[str, ...] | None = None,
    *,
    timeout: float = 60.0,
) -> list[Path]:
    """Write log tables as Parquet: ``target.parquet`` for one table, else ``target/<table>.parquet``.

    With a target ending in ``.parquet``, `tables` must name exactly one table; otherwise
    `target` is a directory (created if needed) that receives one file per table (all the
    log tables by default). Returns the files written.
    """
    names = [tables] if isinstance(tables, str) else list(tables or LOG_TABLES)
    unknown = [t for t in names if t not in LOG_TABLES]
    if unknown:
        raise ValueError(f"unknown tables {unknown}; choose from {', '.join(LOG_TABLES)}")
    if not str(target).strip():
        raise ValueError("export needs a target: a FILE.parquet or a DIRECTORY name")
    target = Path(target).expanduser()
    if target.exists() and not (target.is_dir() or target.is_file()):
        raise ValueError(f"{target} is not a regular file or a directory; choose another target")
    if target.suffix == ".parquet":
        if len(names) != 1:
            raise ValueError(
                "a single .parquet file holds one table; pass tables='llm_calls' "
                "or give a directory as the target"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        outputs = [(names[0], target)]
    else:
        if target.exists() and not target.is_dir():
            raise ValueError(
                f"{target} is a file: give a DIRECTORY for all tables, or FILE.parquet "
                "with tables='NAME' for one"
            )
        target.mkdir(parents=True, exist_ok=True)
        outputs = [(name, target / f"{name}.parquet") for name in names]
    _check_writable(outputs[0][1].parent)
    with _database(location, timeout).connect(read_only=True, timeout=timeout) as con:
        for name, path in outputs:
            quoted = str(path.absolute()).replace("'", "''")
            con.execute(
                f"COPY (FROM {name} ORDER BY {_ORDER[name]}) TO '{quoted}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
    return [path for _, path in outputs]


def _check_writable(directory: Path) -> None:
    """Refuse a target directory no file can be created in, naming it (not the log)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".mira-export-"):
            pass
    except OSError as exc:
        raise ValueError(
            f"cannot write the export into {directory} ({exc.strerror or exc}); choose another target"
        ) from None


def _labels(df: pd.DataFrame, by: str) -> list[str]:
    if by == "model":
        return [
            f"{p}:{m}" if p else str(m) for p, m in zip(df["provider"], df["model"], strict=True)
        ]
    if by == "day":
        return [str(d)[:10] for d in df["day"]]
    if by == "operation":
        return [
            f"{str(i)[:8]} {str(r or '')[:30]}"
            for i, r in zip(df["operation_id"], df["request"], strict=True)
        ]
    if by == "task":
        return [str(d)[:40] for d in df["description"]]
    if by == "user":
        return [str(v) for v in df["user_name"]]
    return [str(v) for v in df[by]]


def plot_costs(df: pd.DataFrame, by: str | None = None, ax: Any = None) -> Any:
    """Bar chart of cost_usd (and routing savings) for a frame returned by `costs`."""
    import matplotlib.pyplot as plt

    by = by or df.attrs.get("by")
    if by not in GROUPINGS:
        raise ValueError("pass by=... (the grouping used to compute the frame)")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(df) + 2), 4))
    positions = list(range(len(df)))
    width = 0.4
    ax.bar([p - width / 2 for p in positions], df["cost_usd"].astype(float), width, label="cost")
    if "routing_savings_usd" in df and df["routing_savings_usd"].astype(float).abs().sum() > 0:
        ax.bar(
            [p + width / 2 for p in positions],
            df["routing_savings_usd"].astype(float),
            width,
            label="routing savings",
            hatch="//",
            alpha=0.7,
        )
        ax.legend()
    ax.set_xticks(positions)
    # matplotlib reads $…$ as mathtext: a "$5" in a request or task is text here
    labels = [label.replace("$", r"\$") for label in _labels(df, by)]
    ax.set_xticklabels(labels, rotation=30 if len(df) > 3 else 0, ha="right")
    ax.set_ylabel("USD")
    total = df.attrs.get("totals", {}).get("cost_usd")
    title = f"Cost by {by}" + (f" (total {_usd(total)})" if total is not None else "")
    title = title.replace("$", r"\$")
    ax.set_title(title)
    ax.figure.tight_layout()
    return ax
