"""The magics after the second issue 11 review: a {Out[n]} whose repr raises, an interrupted
cell as "the last error", and %mira history --conversation with an unknown id."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.notebook.cell_errors import CellErrors
from mira_jupyter.notebook.interpolate import MissingReference, References


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    monkeypatch.chdir(project)
    yield from mira_shell()


BROKEN_REPR = "class Broken:\n    def __repr__(self):\n        raise RuntimeError('no repr today')\nBroken()\n"


def test_an_out_whose_repr_raises_is_one_line_and_sends_nothing(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    cell = shell.run_cell(BROKEN_REPR, store_history=True).execution_count
    capsys.readouterr()
    result = shell.run_cell(f"%%mira --mode simple\nwhat is {{Out[{cell}]}}?\n", store_history=True)
    out = capsys.readouterr()
    assert result.error_in_exec is not None
    message = str(result.error_in_exec)
    assert f"{{Out[{cell}]}}: its repr raised RuntimeError: no repr today" in message
    assert "Traceback" not in out.out + out.err  # no traceback of the formatter in the cell
    assert script.requests == []


def test_references_turn_a_failing_plain_formatter_into_one_line():
    def raises(value):
        raise ValueError("bad\nrepr")

    refs = References({"Out": {3: object()}}, plain=raises)
    with pytest.raises(MissingReference, match=r"^\{Out\[3\]\}: its repr raised ValueError: bad$"):
        refs.resolve("Out[3]")
    with pytest.raises(MissingReference, match="no text/plain"):
        References({"Out": {3: 1}}, plain=lambda value: None).resolve("Out[3]")


def test_an_interrupted_cell_is_not_the_error_fix_sends(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    failed = shell.run_cell("1 / 0", store_history=True).execution_count
    stopped = shell.run_cell("raise KeyboardInterrupt", store_history=True).execution_count
    capsys.readouterr()
    with pytest.raises(Exception, match=rf"In\[{stopped}\] was interrupted .*In\[{failed}\]") as caught:
        shell.run_line_magic("mira", "fix")
    assert "\n" not in str(caught.value)
    assert script.requests == []
    # {Err} is the last real error; {Err[n]} of the interrupted cell is still there
    op = shell.run_cell_magic("mira", "--mode simple", "why {Err} and {Err[" + str(stopped) + "]}")
    assert "ZeroDivisionError" in op.request and "KeyboardInterrupt" in op.request


def test_err_after_only_an_interrupt_points_at_it():
    errors = CellErrors()
    errors.record(4, "KeyboardInterrupt", interrupted=True)
    assert errors.last is None and errors.newest == 4
    refs = References({}, errors=errors.by_cell, last_error=errors.last, interrupted=4)
    with pytest.raises(MissingReference, match=r"In\[4\] was interrupted; \{Err\[4\]\}"):
        refs.resolve("Err")


def test_a_rerun_of_the_failed_cell_that_is_interrupted_is_no_longer_the_last_error():
    errors = CellErrors()
    errors.record(2, "NameError", interrupted=False)
    errors.record(5, "TypeError", interrupted=False)
    errors.record(5, "KeyboardInterrupt", interrupted=True)
    assert errors.last == 2 and errors.interrupted == {5}


def test_history_of_an_unknown_conversation_says_so(shell, capsys):
    mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    shell.run_cell_magic("mira", "--mode simple", "first question")
    current = shell._mira_magics.session.engine.conversation.id
    assert len(shell.run_line_magic("mira", f"history --conversation {current}")) == 1
    with pytest.raises(Exception, match=r"no conversation 'conv_nosuchthing' in the log .*" + current):
        shell.run_line_magic("mira", "history --conversation conv_nosuchthing")
    # a known conversation that other filters empty is an empty table, not an error
    assert len(shell.run_line_magic("mira", f"history --conversation {current} --status failed")) == 0


def test_a_cell_that_does_not_parse_gives_its_line_and_caret_not_ipythons_frames(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    cell = shell.run_cell("def f(:\n    pass", store_history=True).execution_count
    capsys.readouterr()
    op = shell.run_cell_magic("mira", "--mode simple", "explain {Err}")
    assert op.status == "completed", op.error
    assert f"Cell In[{cell}], line 1" in op.request and "def f(:" in op.request
    assert "SyntaxError: invalid syntax" in op.request
    # not the parser's own frames, which name IPython's install by absolute path
    assert "interactiveshell.py" not in op.request and "compilerop" not in op.request
    assert script.requests


def test_an_out_with_a_coloured_repr_is_sent_without_its_escapes():
    refs = References({"Out": {2: object()}}, plain=lambda value: "\x1b[32mgreen\x1b[0m \x1b]8;;u\x07x\x1b]8;;\x07")
    assert refs.resolve("Out[2]") == "green x"
