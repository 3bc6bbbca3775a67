"""choose_view / view_kind: widget in a kernel, text elsewhere, overrides first."""

from __future__ import annotations

import pytest

from mira_jupyter.ui import choose_view, view_kind
from mira_jupyter.ui.text import TextView
from mira_jupyter.ui.widget import OperationWidget


class InteractiveShell:
    pass


class TerminalInteractiveShell(InteractiveShell):
    pass


class ZMQInteractiveShell(InteractiveShell):
    pass


class ColabShell(ZMQInteractiveShell):  # kernels that subclass the ZMQ shell count too
    pass


KERNEL, TERMINAL = ZMQInteractiveShell(), TerminalInteractiveShell()


@pytest.mark.parametrize(
    ("preference", "shell", "env", "expected"),
    [
        (None, KERNEL, {}, "widget"),
        ("auto", ColabShell(), {}, "widget"),
        (None, TERMINAL, {}, "text"),
        ("widget", TERMINAL, {}, "text"),  # a terminal cannot render widgets whatever is asked
        ("text", KERNEL, {}, "text"),
        ("auto", KERNEL, {"MIRA_VIEW": "text"}, "text"),
        ("auto", KERNEL, {"MIRA_VIEW": "TEXT "}, "text"),
        ("widget", KERNEL, {"MIRA_VIEW": "text"}, "widget"),  # the explicit choice wins
    ],
)
def test_view_kind(preference, shell, env, expected):
    assert view_kind(preference, shell=shell, env=env) == expected


def test_a_view_naming_nothing_is_refused_not_taken_as_auto():
    # r14d F3: MIRA_VIEW=bogus was taken as auto without a word
    with pytest.raises(ValueError, match="^MIRA_VIEW must be auto, widget or text, got 'bogus'$"):
        view_kind("auto", shell=KERNEL, env={"MIRA_VIEW": "bogus"})


def test_no_ipython_at_all_means_text():
    assert view_kind(None, env={}) == "text"  # pytest runs without an IPython shell


def test_choose_view_builds_the_right_view():
    assert isinstance(choose_view("auto", shell=TERMINAL, env={}), TextView)
    stop = []
    widget = choose_view("auto", shell=KERNEL, env={}, on_stop=stop.append)
    assert isinstance(widget, OperationWidget) and widget.on_stop == stop.append


def test_replay_views_have_no_buttons():
    widget = choose_view("widget", shell=KERNEL, env={}, interactive=False, on_stop=print)
    assert widget.on_stop is None and widget.on_run is None


def test_run_button_resumes_the_plan_in_the_session():
    class Session:
        def __init__(self):
            self.resumed = []

        class engine:  # noqa: N801 - stands in for the session's engine
            @staticmethod
            def planned_operations():
                return ["op_123"]

        def resume_soon(self, operation_id, *, view=None, cancel=None, output=None):
            self.resumed.append((operation_id, view, cancel, output))
            return "operation"

    session = Session()
    widget = choose_view("widget", shell=KERNEL, env={}, session=session)
    assert widget.on_run("op_123") == "operation"
    [(op_id, view, cancel, output)] = session.resumed
    # the plan runs in the widget that showed it, not in a new one, and prints into it
    assert op_id == "op_123" and view is widget and output is widget.run_output
    # the resumed run's Stop button cancels it
    widget.on_stop("op_123")
    assert cancel.cancelled
    # a plan that no longer waits (run elsewhere) is reported in the widget, not run again
    other = choose_view("widget", shell=KERNEL, env={}, session=session)
    other.build()
    other.state.operation_id, other.state.status, other.state.plan_only = "op_gone", "planned", True
    other._render_buttons()
    other._run_clicked()
    assert "no longer waiting to run" in other._w["notices"].value
    assert len(session.resumed) == 1
