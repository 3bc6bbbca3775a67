"""DataFrames and other values as prompt text: shape, dtypes and head, never the whole frame."""

import pandas as pd
import pytest

from mira_jupyter.notebook.frames import cap_tokens, describe_value, markdown_table
from mira_jupyter.notebook.interpolate import interpolate


def big_frame(rows=100_000):
    return pd.DataFrame(
        {
            "id": range(rows),
            "city": ["Zürich | Bern"] * rows,
            "price": [1.5] * rows,
            "when": pd.date_range("2026-01-01", periods=rows, freq="min"),
        }
    )


def test_a_pandas_frame_sends_shape_dtypes_and_five_rows():
    text = interpolate("explain {df}", {"df": big_frame()})
    assert text.startswith("explain pandas DataFrame `df`: 100,000 rows × 4 columns")
    assert "- id: int64" in text and "- when: datetime64[" in text
    table = text.split("first 5 rows:\n", 1)[1].splitlines()
    assert table[0] == "|  | id | city | price | when |"
    assert len(table) == 2 + 5
    assert "Zürich \\| Bern" in table[2]  # pipes in values cannot break the table
    assert "99999" not in text


def test_a_wide_frame_lists_its_first_columns_and_says_so():
    wide = pd.DataFrame([[1] * 200], columns=[f"c{i}" for i in range(200)])
    text = describe_value("w", wide)
    assert "first 40 of 200 columns shown" in text and "c39" in text and "c40" not in text


def test_a_series_and_an_empty_frame():
    assert describe_value("s", pd.Series([1, 2, 3], name="n")).startswith("pandas Series `s`: 3 rows, dtype int64")
    empty = describe_value("e", pd.DataFrame({"a": []}))
    assert "0 rows × 1 columns" in empty and "first 0 rows" in empty


def test_polars_frames_when_installed():
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"a": list(range(1000)), "b": ["x"] * 1000})
    text = describe_value("pf", frame)
    assert text.startswith("polars DataFrame `pf`: 1,000 rows × 2 columns")
    assert "- a: Int64" in text and "| a | b |" in text and "| 999 |" not in text


def test_other_values_are_their_str():
    assert describe_value("n", 42) == "42"


def test_markdown_table_escapes_pipes_and_newlines_and_cuts_long_cells():
    table = markdown_table(["a"], [["x|y\nz"], ["w" * 100]])
    lines = table.splitlines()
    assert lines[2] == "| x\\|y z |" and lines[3].endswith("… |") and len(lines[3]) < 70


def test_cap_tokens_keeps_short_text_and_counts_what_it_drops():
    assert cap_tokens("short", 10) == "short"
    text = "é" * 10_000  # multi-byte characters: the cut never leaves a broken one
    out = cap_tokens(text, 20)
    kept, marker = out.rsplit("\n", 1)
    assert "\ufffd" not in kept and marker == f"[… {len(text) - len(kept):,} more characters]"


def test_a_frame_is_capped_like_any_value():
    frame = pd.DataFrame({"t": ["long text " * 50] * 10})
    out = interpolate("{frame}", {"frame": frame}, max_tokens=60)
    assert out.endswith("more characters]")
