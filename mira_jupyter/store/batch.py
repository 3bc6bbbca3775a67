"""Accumulate row changes from many events and write them with a few set-based statements.

DuckDB spends about a millisecond planning each statement, so a statement per event
would cost more than everything else the recorder does. Changes are therefore merged per
row in Python and written per table: a lookup of which keys exist, an INSERT of the new
rows, and one UPDATE ... FROM unnested parameter lists for the rows that already exist.

Each changed column carries a mode that says how it combines with what is already stored,
which is what makes the result independent of the order events arrive in:

- SET   overwrite (the event is the authority on this value)
- FILL  only if still NULL (e.g. a "started" event arriving after the "finished" one)
- START status moves to this value only from NULL, 'pending' or 'running'
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

SET, FILL, START = 1, 2, 3

KEYS: dict[str, tuple[str, ...]] = {
    "sessions": ("id",),
    "operations": ("id",),
    "operation_tasks": ("id",),
    "llm_calls": ("id",),
    "tool_calls": ("id",),
    "file_changes": ("operation_id", "seq"),
}
_TYPES: dict[str, dict[str, str]] = {}


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    types = _TYPES.get(table)
    if types is None:
        rows = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database()",
            [table],
        ).fetchall()
        types = _TYPES[table] = dict(rows)
    return types


def _merge(old: tuple[int, Any] | None, new: tuple[int, Any]) -> tuple[int, Any]:
    """Combine two changes to one column, the newer second, as the database would."""
    if old is None:
        return new
    mode, value = new
    if mode == SET:
        return new
    old_mode, old_value = old
    if mode == FILL:
        return (old_mode, value) if old_value is None else old
    # START: replaces only a status that has not moved on yet
    if old_value is None or old_value in ("pending", "running"):
        return (old_mode if old_mode == SET else START, value)
    return old


def _transport(value: Any) -> Any:
    # Decimals travel as text so that no float conversion can touch them
    return str(value) if isinstance(value, Decimal) else value


class RowChanges:
    """Pending changes for the rows of the log tables."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[tuple[Any, ...], dict[str, tuple[int, Any]]]] = {}
        self._inserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def change(
        self,
        table: str,
        values: dict[str, Any],
        mode: int = SET,
        modes: dict[str, int] | None = None,
    ) -> None:
        """Record column values for the row whose key columns are in `values`."""
        keys = KEYS[table]
        key = tuple(values[k] for k in keys)
        row = self._rows.setdefault(table, {}).setdefault(key, {})
        for column, value in values.items():
            if column in keys:
                continue
            row[column] = _merge(row.get(column), ((modes or {}).get(column, mode), value))

    def insert(self, table: str, values: dict[str, Any]) -> None:
        """Insert a row unless its key exists (rows that never change)."""
        key = tuple(values[k] for k in KEYS[table])
        self._inserts.setdefault(table, {}).setdefault(key, values)

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Apply everything with a few statements per table."""
        from .lake import is_lake_connection

        # DuckLake has no key constraints (no ON CONFLICT): existing keys are looked up
        # instead, inside the same transaction, which makes a replayed batch a no-op
        lake = is_lake_connection(con)
        for table, rows in self._inserts.items():
            if lake:
                present = _existing_keys(con, table, list(rows))
                rows = {k: v for k, v in rows.items() if k not in present}
            _insert_missing(con, table, list(rows.values()), conflict=not lake)
        for table, rows in self._rows.items():
            keys = KEYS[table]
            existing = _existing_keys(con, table, list(rows))
            # rows new to the database are inserted whole (an INSERT plans far faster than
            # an UPDATE ... FROM); one INSERT per distinct set of columns
            shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for key, row in rows.items():
                if key in existing:
                    continue
                values = dict(zip(keys, key, strict=True))
                values.update((column, value) for column, (_, value) in row.items())
                shapes.setdefault(tuple(values), []).append(values)
            for shape_rows in shapes.values():
                _insert_missing(con, table, shape_rows, conflict=not lake)
            _update(con, table, {k: r for k, r in rows.items() if k in existing})


def _existing_keys(
    con: duckdb.DuckDBPyConnection, table: str, keys: list[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    names = KEYS[table]
    types = _column_types(con, table)
    selects = ", ".join(_unnest(types, k, f"k_{k}") for k in names)
    match = " AND ".join(f"t.{k} = v.k_{k}" for k in names)
    found = con.execute(
        f"SELECT {', '.join('t.' + k for k in names)} FROM {table} t "
        f"JOIN (SELECT {selects}) v ON {match}",
        [[key[i] for key in keys] for i in range(len(names))],
    ).fetchall()
    return {tuple(row) for row in found}


def _unnest(types: dict[str, str], column: str, alias: str) -> str:
    kind = types[column]
    if kind.startswith("DECIMAL") or kind == "JSON":
        return f"unnest(?::VARCHAR[])::{kind} AS {alias}"
    return f"unnest(?::{kind}[]) AS {alias}"


def _insert_missing(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    conflict: bool = True,
) -> None:
    if not rows:
        return
    types = _column_types(con, table)
    columns = list(rows[0])
    selects = ", ".join(_unnest(types, c, c) for c in columns)
    params = [[_transport(r[c]) for r in rows] for c in columns]
    on_conflict = f" ON CONFLICT ({', '.join(KEYS[table])}) DO NOTHING" if conflict else ""
    con.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selects}{on_conflict}", params
    )


def _update(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: dict[tuple[Any, ...], dict[str, tuple[int, Any]]],
) -> None:
    # rows changed the same way (same columns, same modes) share one UPDATE whose SET
    # clause is plain: per-row CASE expressions on every column cost several times more
    groups: dict[tuple[tuple[str, int], ...], list[tuple[Any, ...]]] = {}
    for key, row in rows.items():
        signature = tuple(sorted((column, mode) for column, (mode, _) in row.items()))
        if signature:
            groups.setdefault(signature, []).append(key)
    types = _column_types(con, table)
    keys = KEYS[table]
    for signature, group in groups.items():
        selects = [_unnest(types, k, f"k_{k}") for k in keys]
        params: list[list[Any]] = [[key[i] for key in group] for i in range(len(keys))]
        assignments = []
        for column, mode in signature:
            selects.append(_unnest(types, column, f"v_{column}"))
            params.append([_transport(rows[key][column][1]) for key in group])
            current, new = f"{table}.{column}", f"v.v_{column}"
            if mode == SET:
                assignments.append(f"{column} = {new}")
            elif mode == FILL:
                assignments.append(f"{column} = coalesce({current}, {new})")
            else:
                assignments.append(
                    f"{column} = CASE WHEN {current} IS NULL OR {current} IN "
                    f"('pending', 'running') THEN {new} ELSE {current} END"
                )
        match = " AND ".join(f"{table}.{k} = v.k_{k}" for k in keys)
        con.execute(
            f"UPDATE {table} SET {', '.join(assignments)} "
            f"FROM (SELECT {', '.join(selects)}) v WHERE {match}",
            params,
        )
