"""inspect_variable for tables: pandas and polars frames and series, with credentials masked.

A frame's head is a table, where a text mask cannot tell a value from its column's name;
so the first rows are copied (a few rows, never the frame) and masked cell by cell before
they are rendered: a column named like a credential (``password``, ``api_key``) shows
``[hidden]``, and every other text cell has credential-shaped values (``Bearer …``, a
password in a database URL, known token formats) hidden, see `inspect_guard.mask_values`.
"""

from __future__ import annotations

import sys
from typing import Any

from .inspect_guard import bounded_repr, is_credential_name, mask_credentials, mask_values

TEXT_CHARS = 3_000  # of a table preview
MAX_COLUMNS = 50
HEAD_ROWS = 5
HIDDEN = "[hidden]"


def secret_label(label: Any) -> bool:
    """Whether a column (or index) label names a credential; MultiIndex labels by any part."""
    parts = label if isinstance(label, tuple) else (label,)
    return any(isinstance(part, str) and is_credential_name(part) for part in parts)


def dtype_label(label: Any, dtype: Any) -> str:
    """A column's dtype as text. A polars Enum's text lists its categories, which are the
    column's values: a credential-named column says only how many, other columns have
    credential-shaped categories hidden, as their cells are."""
    text = str(dtype)
    if type(dtype).__name__ != "Enum" or getattr(dtype, "categories", None) is None:
        return text
    categories = [str(c) for c in dtype.categories.to_list()]
    if secret_label(label):
        return f"Enum({HIDDEN}: {len(categories):,} categories)"
    masked = [mask_cell(c) for c in categories]
    return text if masked == categories else f"Enum(categories={masked})"


def mask_cell(value: Any) -> Any:
    """One table cell with credential-shaped text hidden (other values unchanged)."""
    # before the table cuts a cell to its column width, where a cut value no longer looks
    # like a credential: both by its name (``API_KEY=…``) and by its shape
    if isinstance(value, str | dict | list | tuple):
        text = value if isinstance(value, str) else bounded_repr(value, 200)  # shown as its repr
        # unquoted: the table may cut the cell inside a quoted marker, and a dangling quote
        # would make the final pass over the whole table read the next columns as one value
        return mask_values(mask_credentials(text)).replace(f"'{HIDDEN}'", HIDDEN)
    return value


def _masked_pandas_values(pd: Any, values: Any, hide: bool) -> Any:
    """A few rows of one column (a pandas Series), masked; text and object columns only."""
    if hide:
        return pd.Series([HIDDEN] * len(values), index=values.index, name=values.name, dtype=object)
    if values.dtype == object or str(values.dtype) in ("string", "str", "category"):
        return pd.Series([mask_cell(v) for v in values.tolist()], index=values.index, name=values.name, dtype=object)
    return values


def _masked_pandas_index(pd: Any, index: Any) -> Any:
    if isinstance(index, pd.MultiIndex):  # level by level, like single indexes (a few rows only)
        levels = [_masked_pandas_index(pd, index.get_level_values(n)) for n in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    if secret_label(index.name):
        return pd.Index([HIDDEN] * len(index), name=index.name, dtype=object)
    if index.dtype == object or str(index.dtype) in ("string", "str"):
        return pd.Index([mask_cell(v) for v in index.tolist()], name=index.name, dtype=object)
    return index


def _pandas_head_frame(pd: Any, frame: Any) -> str:
    shown = frame.iloc[:HEAD_ROWS, : min(len(frame.columns), 20)].copy()
    for position, label in enumerate(shown.columns):  # by position: labels may repeat
        shown.isetitem(position, _masked_pandas_values(pd, shown.iloc[:, position], secret_label(label)))
    shown.index = _masked_pandas_index(pd, shown.index)
    return shown.to_string(max_cols=20, max_colwidth=40)[:TEXT_CHARS]


def describe_pandas(obj: Any, kind: type, info: dict[str, Any]) -> bool:
    """DataFrames and Series (only if the user already imported pandas)."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return False
    if issubclass(kind, pd.DataFrame):
        info["shape"] = [len(obj.index), len(obj.columns)]
        columns = list(obj.columns[:MAX_COLUMNS])
        info["columns"] = {bounded_repr(c, 80): str(obj.dtypes.iloc[i]) for i, c in enumerate(columns)}
        if len(obj.columns) > MAX_COLUMNS:
            info["columns_left_out"] = len(obj.columns) - MAX_COLUMNS
        nulls = obj.iloc[:, :MAX_COLUMNS].isna().sum()
        info["null_counts"] = {bounded_repr(c, 80): int(nulls.iloc[i]) for i, c in enumerate(columns) if nulls.iloc[i]}
        info["head"] = _pandas_head_frame(pd, obj)
        return True
    if issubclass(kind, pd.Series):
        info["len"] = len(obj.index)
        info["dtype"] = str(obj.dtype)
        # not "name": the tool's result already names the variable
        info["series_name"] = bounded_repr(obj.name, 80)
        info["null_count"] = int(obj.isna().sum())
        head = obj.iloc[:HEAD_ROWS]
        head = _masked_pandas_values(pd, head, secret_label(obj.name))
        head.index = _masked_pandas_index(pd, head.index)
        info["head"] = head.to_string(max_rows=HEAD_ROWS)[:TEXT_CHARS]
        return True
    return False


def _masked_polars_column(pl: Any, column: Any) -> Any:
    if secret_label(column.name):
        return pl.Series(column.name, [HIDDEN] * len(column), dtype=pl.String)
    if column.dtype in (pl.String, pl.Categorical, pl.Object) or isinstance(column.dtype, pl.Enum) or column.dtype.is_nested():
        values = [None if v is None else mask_cell(v) for v in column.to_list()]
        return pl.Series(column.name, [v if v is None or isinstance(v, str) else str(v) for v in values], dtype=pl.String)
    return column


def describe_polars(obj: Any, kind: type, info: dict[str, Any]) -> bool:
    """polars DataFrames and Series (only if the user already imported polars)."""
    pl = sys.modules.get("polars")
    if pl is None:
        return False
    if issubclass(kind, pl.DataFrame):
        info["shape"] = [obj.height, obj.width]
        names = obj.columns[:MAX_COLUMNS]
        schema = obj.schema
        info["columns"] = {bounded_repr(n, 80): dtype_label(n, schema[n]) for n in names}
        if obj.width > MAX_COLUMNS:
            info["columns_left_out"] = obj.width - MAX_COLUMNS
        nulls = obj.select(names).null_count().row(0)
        info["null_counts"] = {bounded_repr(n, 80): int(c) for n, c in zip(names, nulls, strict=True) if c}
        head = obj.select(obj.columns[:20]).head(HEAD_ROWS)
        head = pl.DataFrame([_masked_polars_column(pl, head.get_column(n)) for n in head.columns])
        with pl.Config(tbl_rows=HEAD_ROWS, tbl_cols=20, fmt_str_lengths=40):
            info["head"] = str(head)[:TEXT_CHARS]
        return True
    if issubclass(kind, pl.Series):
        info["len"] = len(obj)
        info["dtype"] = dtype_label(obj.name, obj.dtype)
        info["series_name"] = bounded_repr(obj.name, 80)
        info["null_count"] = int(obj.null_count())
        with pl.Config(tbl_rows=HEAD_ROWS, fmt_str_lengths=40):
            info["head"] = str(_masked_polars_column(pl, obj.head(HEAD_ROWS)))[:TEXT_CHARS]
        return True
    return False
