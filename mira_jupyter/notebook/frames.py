"""Kernel values as prompt text, safely sized: DataFrames as shape, dtypes and head.

A DataFrame's ``str()`` is either the whole frame (huge) or pandas' own elided view (no
dtypes); neither is what a model needs. So a pandas or polars frame (or series) becomes a
short description: its shape, its column types, and the first rows as a Markdown table.
Everything is then capped in tokens with a visible marker, so a big value can never blow up
a request. pandas and polars are never imported here: a value is recognised only if its
library is already loaded (it must be, for the value to exist). The head rows are masked as
inspect_variable masks them: a column named like a credential shows ``[hidden]``, and
credential-shaped text (``Bearer …``, a password in a URL) is hidden in every other cell.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from ..tools.inspect_frames import HIDDEN, dtype_label, mask_cell, secret_label

HEAD_ROWS = 5
MAX_CELL_CHARS = 60  # a long text cell in the head table is cut to this
MAX_COLUMNS = 40  # wider frames list the first columns and say how many more


def _is_instance(value: Any, module: str, names: tuple[str, ...]) -> bool:
    lib = sys.modules.get(module)
    if lib is None:
        return False
    classes = tuple(getattr(lib, name) for name in names if isinstance(getattr(lib, name, None), type))
    return bool(classes) and isinstance(value, classes)


def _cell(value: Any) -> str:
    # any line break ends a Markdown table row (CommonMark counts a lone CR, and U+2028/9)
    text = re.sub(r"[\r\n\u2028\u2029]+", " ", str(value)).replace("|", "\\|")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A GitHub-flavoured Markdown table (pipes escaped, long cells cut)."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _shape_line(kind: str, name: str, rows: int, columns: int | None) -> str:
    shape = f"{rows:,} rows" if columns is None else f"{rows:,} rows × {columns:,} columns"
    return f"{kind} `{name}`: {shape}"


def _columns_note(total: int) -> str:
    return f"\n(first {MAX_COLUMNS} of {total:,} columns shown)" if total > MAX_COLUMNS else ""


def _masked(values: list[Any], hide: bool) -> list[Any]:
    return [HIDDEN] * len(values) if hide else [mask_cell(v) for v in values]


def _masked_rows(labels: list[Any], rows: list[list[Any]]) -> list[list[Any]]:
    """Rows of a head table masked column by column (`labels` name the columns)."""
    columns = [_masked([row[j] for row in rows], secret_label(label)) for j, label in enumerate(labels)]
    return [list(values) for values in zip(*columns, strict=True)] if columns else [[] for _ in rows]


def _describe_pandas_frame(name: str, frame: Any) -> str:
    rows, columns = frame.shape
    shown = frame.iloc[:HEAD_ROWS, :MAX_COLUMNS]
    dtypes = "\n".join(f"- {col}: {dtype}" for col, dtype in list(frame.dtypes.items())[:MAX_COLUMNS])
    index_name = frame.index.name or ""
    header = [index_name] + [str(c) for c in shown.columns]
    labels = [frame.index.name, *shown.columns]
    body = _masked_rows(labels, [[idx, *values] for idx, values in zip(shown.index, shown.itertuples(index=False, name=None), strict=True)])
    return (
        f"{_shape_line('pandas DataFrame', name, rows, columns)}\n"
        f"dtypes:\n{dtypes}{_columns_note(columns)}\n"
        f"first {min(HEAD_ROWS, rows)} rows:\n{markdown_table(header, body)}"
    )


def _describe_pandas_series(name: str, series: Any) -> str:
    head = series.iloc[:HEAD_ROWS]
    body = _masked_rows([series.index.name, series.name], [[idx, value] for idx, value in head.items()])
    return (
        f"{_shape_line('pandas Series', name, len(series), None)}, dtype {series.dtype}\n"
        f"first {len(head)} values:\n{markdown_table([series.index.name or '', str(series.name or name)], body)}"
    )


def _describe_polars_frame(name: str, frame: Any) -> str:
    rows, columns = frame.shape
    schema = list(frame.schema.items())
    dtypes = "\n".join(f"- {col}: {dtype_label(col, dtype)}" for col, dtype in schema[:MAX_COLUMNS])
    head = frame.head(HEAD_ROWS).select(frame.columns[:MAX_COLUMNS])
    return (
        f"{_shape_line('polars DataFrame', name, rows, columns)}\n"
        f"dtypes:\n{dtypes}{_columns_note(columns)}\n"
        f"first {min(HEAD_ROWS, rows)} rows:\n{markdown_table(list(head.columns), _masked_rows(list(head.columns), [list(r) for r in head.rows()]))}"
    )


def _describe_polars_series(name: str, series: Any) -> str:
    head = series.head(HEAD_ROWS).to_list()
    return (
        f"{_shape_line('polars Series', name, len(series), None)}, dtype {dtype_label(series.name, series.dtype)}\n"
        f"first {len(head)} values:\n{markdown_table([series.name or name], _masked_rows([series.name], [[v] for v in head]))}"
    )


def describe_value(name: str, value: Any) -> str:
    """What ``{name}`` sends: a frame's summary, otherwise ``str(value)`` (may raise)."""
    if _is_instance(value, "pandas", ("DataFrame",)):
        return _describe_pandas_frame(name, value)
    if _is_instance(value, "pandas", ("Series",)):
        return _describe_pandas_series(name, value)
    if _is_instance(value, "polars", ("DataFrame",)):
        return _describe_polars_frame(name, value)
    if _is_instance(value, "polars", ("Series",)):
        return _describe_polars_series(name, value)
    if _is_instance(value, "polars", ("LazyFrame",)):
        return f"polars LazyFrame `{name}` (not collected): schema {dict(value.collect_schema())}"
    return str(value)


def cap_tokens(text: str, max_tokens: int) -> str:
    """`text` cut to at most `max_tokens` tokens, ending with ``[… N more characters]``."""
    if max_tokens <= 0 or len(text) <= max_tokens:  # a token is at least one character
        return text
    from ..llm.tokens import get_encoding

    # encoding a huge string just to cut it is slow: no token is longer than ~16 characters here
    head = text[: max_tokens * 16]
    encoding = get_encoding()
    ids = encoding.encode(head, disallowed_special=())
    if len(ids) <= max_tokens and len(head) == len(text):
        return text
    kept = encoding.decode(ids[:max_tokens]) if len(ids) > max_tokens else head
    kept = kept.rstrip("\ufffd")  # a cut through a multi-byte character
    return f"{kept}\n[… {len(text) - len(kept):,} more characters]"
