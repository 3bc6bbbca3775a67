"""``%mira diff`` and the diffs of ``%mira show``, in a real IPython shell with a real DuckDB log:
built from the stored file_changes, so they outlive the files and the kernel's memory."""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, call, mira_shell, plan_turn
from test_magics import usage_error_line

import mira_jupyter.testing as mt


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "data.py").write_text("rows = [1, 2, 3]\n")
    monkeypatch.chdir(project)
    yield from mira_shell()


def rewrite(shell, content: str):
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Rewrite data.py"),
                    call("refactor_code", path="data.py", changes_requested="change rows"),
                    "rewrote it",
                    "data.py changed.",
                ],
                EXEC: [f"```python\n{content}```"],
            }
        )
    )
    return shell.run_cell_magic("mira", "--mode planned", "change rows in data.py")


def test_diff_shows_the_last_change_and_a_named_one_from_the_log(shell, capsys, tmp_path):
    assert "no operation changed any files yet" in usage_error_line(shell, capsys, "%mira diff")
    first = rewrite(shell, "rows = (1, 2, 3)\n")
    second = rewrite(shell, "rows = (1, 2, 3, 4)\n")
    out = capsys.readouterr().out
    assert "✎ modified data.py (+1 −1)" in out  # the text view says each write's size
    last = shell.run_line_magic("mira", "diff")
    assert last.operation_id == second.id
    assert "-rows = (1, 2, 3)\n+rows = (1, 2, 3, 4)" in last.text()
    # the files moved on, and a new kernel has no memory of the operations: the log has it
    (tmp_path / "proj" / "data.py").write_text("something else\n")
    shell.run_line_magic("unload_ext", "mira_jupyter")
    shell.run_line_magic("load_ext", "mira_jupyter")
    older = shell.run_line_magic("mira", f"diff {first.id}")
    assert older.text().startswith(f"mira diff {first.id}: 1 file changed\n--- a/data.py\n+++ b/data.py")
    assert "-rows = [1, 2, 3]\n+rows = (1, 2, 3)" in older.text()
    html = older._repr_html_()
    assert "<details open" in html and "data.py" in html and "+rows = (1, 2, 3)" in html
    assert repr(older) == older.text()


def test_bad_arguments_are_one_line(shell, capsys):
    rewrite(shell, "rows = ()\n")
    capsys.readouterr()
    assert "no operation 'op_nope' in" in usage_error_line(shell, capsys, "%mira diff op_nope")
    assert "%mira diff: unrecognized arguments: b" in usage_error_line(shell, capsys, "%mira diff a b")
    assert "%mira diff: unrecognized arguments: --all" in usage_error_line(shell, capsys, "%mira diff --all")
    mt.use_script(mt.Script({ORCH: ["Nothing to change."]}))
    asked = shell.run_cell_magic("mira", "--mode simple", "what is rows?")
    assert f"operation {asked.id} changed no files" in usage_error_line(shell, capsys, f"%mira diff {asked.id}")


def test_events_replayed_for_show_rebuild_the_diffs_from_the_log(shell, capsys):
    op = rewrite(shell, "rows = (1, 2, 3)\n")
    from mira_jupyter.store.replay import load_events
    from mira_jupyter.ui.state import OperationState
    from mira_jupyter.ui.static import render_static

    shell.run_line_magic("mira", "history -n 1")  # flushes the log
    state = OperationState.from_events(load_events(shell._mira_magics.session.database, op.id))
    html = render_static(state)["text/html"]
    assert 'class="mira-change"' in html and "+rows = (1, 2, 3)" in html
    assert "was not kept" not in html
