"""%mira fix on a long cell, through IPython and the scripted model (issue 11 L5): the
request holds the failing line and the lines around it, not the cell's first lines."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, mira_shell

import mira_jupyter.testing as mt


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield from mira_shell()


def _fix_text(script) -> str:
    texts = [m["content"] for m in script.requests[-1].messages if m["role"] == "user"]
    return next(t for t in texts if t.startswith("Fix the error"))


def test_fix_sends_the_window_around_the_failing_line_of_a_long_cell(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    shell.run_line_magic("config", "Mira.max_interpolated_tokens = 150")  # a smaller cell will do
    lines = [f"reading_{i} = sensor({i})" if i else "sensor = lambda i: i * 0.25" for i in range(1_000)]
    lines[899] = "ratio = reading_5 / (reading_1 - reading_1)"
    cell = shell.run_cell("\n".join(lines), store_history=True).execution_count
    shell.run_cell("%mira fix", store_history=True)
    fix = _fix_text(script)
    source, traceback = fix.split("Its traceback:")
    assert "ratio = reading_5 / (reading_1 - reading_1)" in source
    assert "reading_898 = sensor(898)" in source  # the lines just above it too
    assert "reading_1 = sensor(1)\n" not in source  # the top of the cell was cut
    assert "[… lines 1-" in source and "of 1,000 left out]" in source
    assert "around line 900 where it failed" in source
    assert f"Cell In[{cell}], line 900" in traceback and "ZeroDivisionError" in traceback
    assert "saying which lines of the cell they replace" in fix


def test_fix_sends_a_short_cell_whole_as_before(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    shell.run_cell("a = [1, 2]\na[5]", store_history=True)
    shell.run_cell("%mira fix", store_history=True)
    fix = _fix_text(script)
    assert "The cell's source:\n```python\na = [1, 2]\na[5]\n```" in fix and "left out" not in fix
    assert "the corrected cell as one python code block" in fix
