"""A polars Enum's dtype text lists its categories, which are the column's values (r11d F11):
for a credential-named column they are hidden in ``{df}`` and inspect_variable, as its cells are."""

from __future__ import annotations

import json

import pytest

pl = pytest.importorskip("polars", reason="polars is optional: the Enum dtype is polars'")

from mira_jupyter.notebook.frames import describe_value  # noqa: E402
from mira_jupyter.tools.inspect_variable import InspectVariableArgs, UserNamespace, inspect_variable  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402

SECRETS = ["hunter2-s3cret", "correct-horse-battery"]


def _frame():
    return pl.DataFrame(
        {
            "user": ["ann", "bob"],
            "password": pl.Series(SECRETS, dtype=pl.Enum(SECRETS)),
            "team": pl.Series(["red", "blue"], dtype=pl.Enum(["red", "blue"])),
            "auth": pl.Series(["Bearer abcdef0123456789xyz", "none"], dtype=pl.Enum(["Bearer abcdef0123456789xyz", "none"])),
        }
    )


def _inspected(value) -> str:
    ctx = ToolContext(sandbox=None, extra={"namespace": UserNamespace({"v": value})})
    result = inspect_variable.func(InspectVariableArgs(name="v"), ctx)
    assert result.status == "ok", result.content
    return json.dumps(result.content)


@pytest.mark.parametrize("show", [lambda v: describe_value("v", v), _inspected], ids=["interpolated", "inspect_variable"])
def test_a_secret_columns_enum_categories_are_hidden(show):
    frame = _frame()
    for value in (frame, frame.get_column("password")):
        text = show(value)
        assert not any(secret in text for secret in SECRETS), text
        assert "abcdef0123456789xyz" not in text  # credential-shaped categories of other columns too
    text = show(frame)
    assert "2 categories" in text and "red" in text and "blue" in text  # other Enums as they are
