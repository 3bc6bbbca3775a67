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


def test_credentials_in_a_frames_head_are_hidden_as_inspect_variable_hides_them() -> None:
    """{df} sent a frame's first rows whole: a password column reached the model and the log."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "login": ["ada", "bob"],
            "Password": ["correct-horse-7", "tr0ub4dor"],
            "where": ["mysql://app:Zx9-pass@db:3306/x", "sqlite:///local.db"],
            "header": ["Authorization: Bearer abcdef0123456789abcdef", "none"],
            "rows": [10, 20],
        }
    )
    for text in (
        describe_value("df", frame),
        describe_value("col", frame["Password"]),
        describe_value("by_secret", frame.set_index("Password")),
        describe_value("where", frame["where"]),
    ):
        for secret in ("correct-horse-7", "tr0ub4dor", "Zx9-pass", "abcdef0123456789abcdef"):
            assert secret not in text, text
    shown = describe_value("df", frame)
    assert "ada" in shown and "sqlite:///local.db" in shown and "| 10 |" in shown  # the rest stays


def test_credentials_in_a_polars_frames_head_are_hidden() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"user": ["ada"], "api_key": ["k-123456789"], "url": ["https://u:pw-9876@h/x"]})
    for text in (describe_value("df", frame), describe_value("s", frame["api_key"])):
        assert "k-123456789" not in text and "pw-9876" not in text, text


def test_a_carriage_return_in_a_cell_does_not_split_the_table_row() -> None:
    """r11d F9: a lone CR (a line end to CommonMark) was sent inside a row."""
    table = markdown_table(["a"], [["cr\rhere"], ["ls\u2028here"], ["crlf\r\nhere"]])
    assert "\r" not in table and "\u2028" not in table and len(table.splitlines()) == 5
