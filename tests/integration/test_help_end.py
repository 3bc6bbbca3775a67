"""A ``%mira`` line that ends in ``?`` reaches the magic (r11d F7): IPython's help syntax took
``%mira fix why does this fail?`` and the magic never ran. In a real IPython shell."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.notebook.transform import help_end_guard


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield from mira_shell()


def _user_texts(script, since: int) -> str:
    return "\n".join(
        m["content"] for r in script.requests[since:] for m in r.messages
        if m["role"] == "user" and isinstance(m["content"], str)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "question"),
    [
        ("%mira fix why does this fail?", "why does this fail?"),
        ("%mira_skill debugging why is rows None?", "why is rows None?"),
        ("%mira fix is {label} right?", "is the total right?"),  # {expr} expands as for any magic line
    ],
)
def test_a_question_mark_at_the_end_of_a_mira_line_reaches_the_magic(shell, line, question):
    script = mt.use_script(mt.Script({ORCH: ["Use a list, not None."] * 4}))
    shell.user_ns["label"] = "the total"
    assert not shell.run_cell("rows = None\nsum(rows)").success  # an error for %mira fix
    result = shell.run_cell(line)
    assert result.error_in_exec is None, result.error_in_exec
    assert question in _user_texts(script, 0)


def test_ipython_help_on_the_magic_itself_is_left_alone(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    for line in ("%mira?", "%mira history?", "%mira_skill?"):
        assert shell.run_cell(line).error_in_exec is None
    assert script.requests == []  # help, not a request
    assert "Docstring" in capsys.readouterr().out


@pytest.mark.parametrize(
    "line",
    ["x = 1  # %mira fix why?\n", "%miracle fix why?\n", "%mira fix why\n", "%mira fix?\n", "%mira_skill x?\n"],
)
def test_the_guard_rewrites_only_mira_lines_that_end_in_a_question_mark(line):
    assert help_end_guard([line]) == [line]


def test_a_mira_line_inside_a_block_keeps_its_indentation(shell):
    script = mt.use_script(mt.Script({ORCH: ["Use a list."] * 2}))
    assert help_end_guard(["if True:\n", "    %mira fix why?\n"])[1].startswith("    get_ipython().run_line_magic(")
    assert not shell.run_cell("rows = None\nsum(rows)").success
    assert shell.run_cell("if True:\n    %mira fix why now?\n").error_in_exec is None
    assert "why now?" in _user_texts(script, 0)
