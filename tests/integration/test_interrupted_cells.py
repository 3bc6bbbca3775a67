"""A %%mira cell stopped with the widget's Stop button (issue 11 L6) ends interrupted, like
one stopped with the kernel's interrupt (tests/integration/test_kernel.py): Run All stops
there, the operation is recorded as cancelled and bound to -o, and the output stays."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.notebook.magics import MiraMagics


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield from mira_shell()


@pytest.fixture()
def stop_at_once(monkeypatch):
    """The cell's view presses Stop when the operation's first event arrives."""
    original = MiraMagics._view

    def view_that_stops(self, override, cancel):
        view = original(self, override, cancel)

        def show(event):
            cancel.cancel("stopped with the Stop button")  # what the widget's Stop does
            view(event)

        return show

    monkeypatch.setattr(MiraMagics, "_view", view_that_stops)


def test_a_cell_stopped_with_the_stop_button_ends_interrupted(shell, stop_at_once, capsys):
    mt.use_script(mt.Script({ORCH: [{"text": "an answer", "repeat": True}]}))
    result = shell.run_cell("%%mira --mode simple -o stopped\nwhat is here?", store_history=True)
    error = result.error_in_exec
    assert isinstance(error, KeyboardInterrupt) and type(error).__name__ == "OperationInterrupted", error
    assert not result.success  # what ipykernel turns into status "error": Run All stops
    captured = capsys.readouterr()
    op = shell.user_ns["stopped"]
    assert op.status == "cancelled" and "stopped with the Stop button" in (op.error or "")
    assert f"Interrupted: {op.id} stopped with the Stop button" in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "cancelled" in captured.out  # the cell's own rendering stays
    history = shell.run_line_magic("mira", "history -n 1 --all")
    assert history.iloc[0]["status"] == "cancelled"


def test_a_cell_that_completes_still_answers(shell, capsys):
    mt.use_script(mt.Script({ORCH: [{"text": "an answer", "repeat": True}]}))
    result = shell.run_cell("%%mira --mode simple\nwhat is here?", store_history=True)
    assert result.success and result.result.status == "completed"
