"""The views' side of approvals: the widget's panel and buttons, the terminal prompt, and the
per-file diffs of applied changes in the static rendering (real ipywidgets objects)."""

from __future__ import annotations

import io

from test_ui_widget import make

from mira_jupyter.core.events import (
    ApprovalDecided,
    ApprovalRequested,
    FileChanged,
    OperationFinished,
)
from mira_jupyter.ui.ask import PromptAsker
from mira_jupyter.ui.demo import DEMO_OP, planned_operation
from mira_jupyter.ui.markdown import CODE_STYLE
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.static import render_static
from mira_jupyter.ui.text import TextView

DIFF = "--- a/calc.py\n+++ b/calc.py\n@@ -1 +1,2 @@\n def total(rows):\n+    '<script>alert(1)</script>'"


def asked(approval_id: str = "ap_1", **kw) -> ApprovalRequested:
    fields = dict(
        operation_id=DEMO_OP, approval_id=approval_id, tool="write_file", kind="write", path="calc.py",
        diff=DIFF, added=1, removed=0, why="Mira.approve = writes", timeout_seconds=600,
    )  # fmt: skip
    return ApprovalRequested(**{**fields, **kw})


def decided(decision: str, approval_id: str = "ap_1") -> ApprovalDecided:
    return ApprovalDecided(operation_id=DEMO_OP, approval_id=approval_id, decision=decision, message=f"{decision}: x")


def test_the_panel_shows_the_diff_and_one_click_answers_once():
    answers = []
    widget, *_ = make(on_stop=lambda _op: None, on_decide=lambda a, ok: answers.append((a, ok)) or True)
    assert widget.can_ask
    widget(planned_operation(1)[0])
    assert widget._approval is None  # made when a change first waits: most never do
    widget(asked())
    widget.flush()
    panel = widget._approval
    assert panel.root.layout.display == ""
    children = list(widget.root.children)
    assert children.index(panel.root) == children.index(widget._w["tasks"]) + 1
    assert "Waiting for your approval" in panel.title.value and "write_file calc.py (+1 −0)" in panel.title.value
    assert "&lt;script&gt;" in panel.body.value and "<script>" not in panel.body.value
    panel.approve.click()
    panel.reject.click()  # a second click, on the other button: no second answer
    panel.approve.click()
    assert answers == [("ap_1", True)]
    assert panel.approve.disabled and panel.reject.disabled and panel.approve.description == "Approving…"
    assert widget._w["stop"].layout.display == ""  # Stop stays usable while a change waits
    widget(decided("approved"))
    widget.flush()
    assert panel.root.layout.display == "none"


def test_a_click_that_comes_too_late_says_so():
    widget, *_ = make(on_decide=lambda a, ok: False)  # the board: nothing waits any more
    widget(planned_operation(1)[0])
    widget(asked())
    widget.flush()
    widget._approval.reject.click()
    assert "no longer waits" in widget._approval.title.value


def test_a_new_question_gets_fresh_buttons():
    answers = []
    widget, *_ = make(on_decide=lambda a, ok: answers.append((a, ok)) or True)
    widget(planned_operation(1)[0])
    widget(asked("ap_1"))
    widget.flush()
    widget._approval.reject.click()
    widget(decided("rejected", "ap_1"))
    widget(asked("ap_2", kind="command", path=None, argv=["curl", "-s", "x"], diff="", why="'curl' is not in Mira.commands"))
    widget.flush()
    assert not widget._approval.approve.disabled
    assert "$ curl -s x" in widget._approval.body.value
    widget._approval.approve.click()
    assert answers == [("ap_1", False), ("ap_2", True)]


def test_a_widget_without_a_board_shows_no_buttons():
    widget, *_ = make()  # nbclient, %mira show: nobody can answer here
    assert not widget.can_ask
    widget(planned_operation(1)[0])
    widget(asked())
    widget.flush()
    assert widget._approval.buttons.layout.display == "none"


def test_the_static_rendering_has_a_collapsed_diff_per_file_and_the_decisions():
    state = OperationState()
    for event in planned_operation(1)[:1]:
        state.apply(event)
    base = dict(operation_id=DEMO_OP, project_root="/p")
    state.apply(FileChanged(**base, path="calc.py", existed_before=True, previous_content=b"a\n", new_sha256="1", new_content=b"b\n"))
    state.apply(FileChanged(**base, path="calc.py", existed_before=True, previous_content=b"b\n", new_sha256="2", new_content=b"c\n<x>\n"))
    state.apply(FileChanged(**base, path="new.py", existed_before=False, new_sha256="3", new_content=b"n\n"))
    state.apply(FileChanged(**base, path="big.bin", existed_before=True, previous_content=b"\x00", new_sha256="4"))
    state.apply(asked())
    state.apply(decided("rejected"))
    state.apply(OperationFinished(operation_id=DEMO_OP, status="completed"))
    html = render_static(state)["text/html"]
    assert html.count('<details class="mira-change"') == 2  # one per file, not per write
    assert ">-a</span>" in html and "&lt;x&gt;" in html and ">+c</span>" in html and ">-b<" not in html  # first → last
    assert f'✎ created <code style="{CODE_STYLE}">new.py</code>' in html
    assert "new content was not kept" in html  # a change whose bytes were not kept says so
    assert 'data-mira-approval="rejected"' in html and "Mira.approve = writes" in html


def test_the_prompt_asks_and_only_yes_approves():
    for typed, expected in (("y", True), ("YES ", True), ("", False), ("no", False), (EOFError, False)):
        answers = []

        def read(prompt, typed=typed):
            assert prompt == "Apply it? [y/N] "
            if typed is EOFError:
                raise EOFError
            return typed

        out = io.StringIO()
        view = TextView(out, ask=PromptAsker(lambda a, ok, answers=answers: answers.append(ok) or True, read=read))
        assert view.can_ask
        view(planned_operation(1)[0])
        view(asked())
        assert answers == [expected]
        text = out.getvalue()
        assert "mira wants to change calc.py (+1 −0)" in text and "+    '<script>" in text
        assert "rejected after 600 s without an answer" in text


def test_a_text_view_that_cannot_ask_says_the_change_waits():
    out = io.StringIO()
    view = TextView(out)
    assert not view.can_ask
    view(planned_operation(1)[0])
    view(asked())
    view(decided("timeout"))
    assert "? waiting for approval: calc.py" in out.getvalue() and "✗ timeout: x" in out.getvalue()


def test_code_waiting_for_approval_is_shown_whole_with_controls_spelled():
    from mira_jupyter.core.events import ApprovalRequested
    from mira_jupyter.ui.ask import question_text
    from mira_jupyter.ui.diff_view import approval_body_html, approval_summary
    from mira_jupyter.ui.state import ApprovalState

    code = 'import os\nif user == "admin\u202e \u2066# ok\u2069":\n    os.remove("x")\x1b[2K\rprint(1)'
    event = ApprovalRequested(
        operation_id="op", approval_id="ap", tool="run_code", kind="code", code=code, why="Mira.approve = always"
    )
    approval = ApprovalState(event)
    assert approval_summary(approval) == "run_code (3 lines of Python)"
    body = approval_body_html(approval)
    assert "\\u202e" in body and "\\u2066" in body and "\\x1b" in body and "\\r" in body
    assert "\u202e" not in body and "\x1b" not in body and "os.remove" in body
    text = question_text(event)
    assert text.startswith("mira wants to run this Python in the scratch kernel:")
    assert "\\u202e" in text and "\x1b" not in text and 'os.remove("x")' in text
