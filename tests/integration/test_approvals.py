"""Approvals end to end: the real engine, the real file tools and sandbox, the scripted model
over the real openai SDK, the session's pump and the real DuckDB log.

A change that must ask waits with its diff; the answer comes from a view on the caller's
thread (as the widget's buttons and the terminal prompt answer). Rejections, timeouts,
Stop and the absence of any front end each end as a tool result the model sees.
"""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.session import Session

OLD = "def total(rows):\n    return sum(rows)\n"
NEW = "def total(rows):\n    \"\"\"Sum of the rows.\"\"\"\n    return sum(rows)\n"
PLANNED = RunOptions(mode="planned")


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text(OLD)
    return root


@pytest.fixture()
def session(project, tmp_path):
    config = Mira()
    config.project_root = str(project)
    config.database = str(tmp_path / "log.duckdb")
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = f"scripted:{EXEC}"
    config.approve = "writes"
    s = Session(config)
    yield s
    s.close()


def edit_script(*orchestrator_after: str) -> mt.Script:
    """A plan whose one task has the executor rewrite calc.py with a docstring."""
    return mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Document total"),
                    call("refactor_code", path="calc.py", changes_requested="add a docstring"),
                    *(orchestrator_after or ("Done.", "Added a docstring.")),
                ],
                EXEC: [f"```python\n{NEW}```\nAdded it."],
            }
        )
    )


class Answering:
    """A view that can answer approvals, like the widget's buttons: on the caller's thread."""

    can_ask = True

    def __init__(self, session: Session, *answers: bool, before=None) -> None:
        self.session = session
        self.answers = list(answers)
        self.before = before  # run when the question arrives (e.g. edit the file meanwhile)
        self.events: list = []
        self.reached: list[bool] = []

    def __call__(self, event) -> None:
        self.events.append(event)
        if event.type == "ApprovalRequested":
            if self.before is not None:
                self.before(event)
            self.reached.append(self.session.approvals.decide(event.approval_id, self.answers.pop(0)))

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.type == kind]


def orchestrator_was_told(script: mt.Script, text: str) -> bool:
    return any(
        text in str(message.get("content"))
        for request in script.requests_for(ORCH)
        for message in request.messages
        if message.get("role") == "tool"
    )


def logged_tool_calls(session: Session) -> list[tuple]:
    session.flush()
    with duckdb.connect(session.database, read_only=True) as con:
        return con.execute(
            "SELECT tool, status, denial_reason, error FROM tool_calls ORDER BY started_at"
        ).fetchall()


def test_approve_applies_the_change_that_was_shown(session, project):
    edit_script()
    view = Answering(session, True)
    op = session.run("document total", PLANNED, view=view)
    assert op.status == "completed", op.error
    (asked,) = view.of("ApprovalRequested")
    assert asked.kind == "write" and asked.path == "calc.py" and asked.tool == "write_file"
    assert '+    """Sum of the rows."""' in asked.diff and (asked.added, asked.removed) == (1, 0)
    assert asked.why == "Mira.approve = writes" and asked.tool_call_id
    assert [d.decision for d in view.of("ApprovalDecided")] == ["approved"]
    assert (project / "calc.py").read_text() == NEW
    (changed,) = op.file_changes
    assert changed.new_content == NEW.encode()
    assert view.reached == [True]


def test_reject_is_a_tool_result_the_model_sees_and_the_log_keeps(session, project):
    script = edit_script("I will leave calc.py as it is.", "Nothing was changed: you rejected the edit.")
    view = Answering(session, False)
    op = session.run("document total", PLANNED, view=view)
    assert (project / "calc.py").read_text() == OLD
    assert op.file_changes == []
    assert orchestrator_was_told(script, "rejected by the user: the change to calc.py was not done")
    rows = logged_tool_calls(session)
    assert ("write_file", "denied", "rejected_by_user") in [r[:3] for r in rows]
    assert ("refactor_code", "denied", "rejected_by_user") in [r[:3] for r in rows]
    with duckdb.connect(session.database, read_only=True) as con:
        (payload,) = con.execute(
            "SELECT payload FROM operation_events WHERE type = 'ApprovalDecided'"
        ).fetchone()
    assert json.loads(payload)["decision"] == "rejected"
    assert op.status in ("completed", "failed")  # the task's truth follows the rejected call


def test_without_a_front_end_it_refuses_in_one_line_and_does_not_wait(session, project):
    script = edit_script("Could not write it.", "The edit needs your approval.")
    started = time.monotonic()
    op = session.run("document total", PLANNED)  # library use: no view that can answer
    assert time.monotonic() - started < 60  # it did not wait for the 600 s timeout
    assert (project / "calc.py").read_text() == OLD
    assert orchestrator_was_told(script, "nothing here can ask (no interactive front end): refused")
    notices = [m for m in op_notices(session, op.id)]
    assert len(notices) == 1 and "\n" not in notices[0] and "set Mira.approve = 'never'" in notices[0]
    assert ("write_file", "denied", "approval_unavailable") in [r[:3] for r in logged_tool_calls(session)]


def op_notices(session: Session, op_id: str) -> list[str]:
    from mira_jupyter.store.replay import load_events

    session.flush()
    return [e.message for e in load_events(session.database, op_id) if e.type == "Notice" and "approval" in e.message]


def test_a_view_that_cannot_answer_gets_the_refusal_too(session, project):
    edit_script("Could not.", "Needs approval.")
    seen: list = []  # a plain sink: no can_ask (nbconvert's text view, %mira show)
    session.run("document total", PLANNED, view=seen.append)
    assert (project / "calc.py").read_text() == OLD
    assert not [e for e in seen if e.type == "ApprovalRequested"]


def test_never_applies_without_asking(session, project):
    edit_script()
    view = Answering(session)
    op = session.run("document total", RunOptions(mode="planned", approve="never"), view=view)
    assert op.status == "completed" and not view.of("ApprovalRequested")
    assert (project / "calc.py").read_text() == NEW


def test_the_file_changed_while_waiting_is_not_overwritten(session, project):
    edit_script("calc.py changed under me.", "Not written.")

    def user_edits(_event) -> None:
        (project / "calc.py").write_text("# my own edit\n" + OLD)

    view = Answering(session, True, before=user_edits)
    session.run("document total", PLANNED, view=view)
    assert (project / "calc.py").read_text() == "# my own edit\n" + OLD
    rows = logged_tool_calls(session)
    assert any(r[0] == "write_file" and r[1] == "error" and "changed while the change waited" in r[3] for r in rows)


def test_reject_then_undo_restores_only_what_was_approved(session, project):
    (project / "other.py").write_text("x = 1\n")
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Edit both files"),
                    call("refactor_code", path="calc.py", changes_requested="add a docstring"),
                    call("refactor_code", path="other.py", changes_requested="x = 2"),
                    "Edited one of them.",
                    "calc.py was changed; other.py was rejected.",
                ],
                EXEC: [f"```python\n{NEW}```\nok", "```python\nx = 2\n```\nok"],
            }
        )
    )
    op = session.run("edit both", PLANNED, view=Answering(session, True, False))
    assert (project / "calc.py").read_text() == NEW and (project / "other.py").read_text() == "x = 1\n"
    assert [c.path for c in op.file_changes] == ["calc.py"]
    from mira_jupyter.undo import undo_operation

    report = undo_operation(session, op.id)
    assert report.restored == ["calc.py"] and report.skipped == []
    assert (project / "calc.py").read_text() == OLD and (project / "other.py").read_text() == "x = 1\n"


# -- waiting: Stop, timeout, late and double answers, two operations at once --------------


def waiting_harness(project, **settings):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Document total"),
                call("refactor_code", path="calc.py", changes_requested="add a docstring"),
                "Done.",
                "Answer.",
            ],
            EXEC: [f"```python\n{NEW}```\nok"],
        }
    )
    return Harness(project, script, approve="writes", **settings)


def run_in_thread(h: Harness, op_id: str, cancel=None):
    from mira_jupyter.core.cancel import CancelToken

    cancel = cancel or CancelToken()
    out: dict = {}
    thread = threading.Thread(
        target=lambda: out.setdefault("op", h.engine.run("document", PLANNED, cancel, op_id)), daemon=True
    )
    thread.start()
    return thread, out, cancel


def wait_for(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_stop_while_waiting_cancels_and_a_late_approve_changes_nothing(project):
    h = waiting_harness(project)
    h.engine.approvals.attach("op_stop")
    thread, out, cancel = run_in_thread(h, "op_stop")
    wait_for(lambda: h.engine.approvals.waiting("op_stop"))
    (approval_id,) = h.engine.approvals.waiting("op_stop")
    cancel.cancel("stopped with the Stop button")
    thread.join(30)
    assert out["op"].status == "cancelled"
    assert h.engine.approvals.decide(approval_id, True) is False  # too late: nothing waits
    assert (project / "calc.py").read_text() == OLD
    assert [d.decision for d in h.of("ApprovalDecided")] == ["stopped"]
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "write_file"]
    assert finished and finished[0].status == "error" and "stopped" in finished[0].error


def test_no_answer_in_time_rejects(project):
    h = waiting_harness(project, approve_timeout=0.3)
    h.engine.approvals.attach("op_late")
    op = h.engine.run("document", PLANNED, None, "op_late")
    assert (project / "calc.py").read_text() == OLD
    (decided,) = h.of("ApprovalDecided")
    assert decided.decision == "timeout" and "no answer within 0.3 s" in decided.message
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "write_file"]
    assert finished[0].denial_reason == "approval_timeout"
    assert op.status in ("completed", "failed")


def test_a_double_click_answers_once(project):
    h = waiting_harness(project)
    h.engine.approvals.attach("op_dbl")
    answers = []

    def click_twice(event) -> None:
        if event.type == "ApprovalRequested":
            answers.append(h.engine.approvals.decide(event.approval_id, False))
            answers.append(h.engine.approvals.decide(event.approval_id, True))

    h.bus.subscribe(click_twice)
    h.engine.run("document", PLANNED, None, "op_dbl")
    assert answers == [True, False]
    assert (project / "calc.py").read_text() == OLD  # the first answer, Reject, stood
    assert [d.decision for d in h.of("ApprovalDecided")] == ["rejected"]


def test_two_operations_waiting_at_once_each_get_their_own_answer(project):
    # a cell and a Run button's plan share the session's board; here two runs of one engine
    (project / "b.py").write_text(OLD)
    script = mt.Script(
        {
            # the second operation starts once the first waits: the turns come in this order
            ORCH: [
                plan_turn("Document calc.py"),
                call("refactor_code", path="calc.py", changes_requested="doc"),
                plan_turn("Document b.py"),
                call("refactor_code", path="b.py", changes_requested="doc"),
                *["Done.", "Answer."] * 2,
            ],
            EXEC: [f"```python\n{NEW}```\nok"] * 2,
        }
    )
    h = Harness(project, script, approve="writes")
    board = h.engine.approvals
    board.attach("op_one")
    board.attach("op_two")
    t1, out1, _ = run_in_thread(h, "op_one")
    wait_for(lambda: board.waiting("op_one"))
    t2, out2, _ = run_in_thread(h, "op_two")
    wait_for(lambda: board.waiting("op_two"))
    assert len(board.waiting()) == 2
    (first,) = board.waiting("op_one")
    (second,) = board.waiting("op_two")
    assert board.decide(second, False) and board.decide(first, True)
    t1.join(30)
    t2.join(30)
    assert (project / "calc.py").read_text() == NEW
    assert (project / "b.py").read_text() == OLD
    assert [c.path for c in out1["op"].file_changes] == ["calc.py"] and not out2["op"].file_changes


# -- auto-under: cost and size ---------------------------------------------------------------


def test_auto_under_applies_a_small_cheap_change_and_asks_for_a_big_one(session, project):
    edit_script()
    view = Answering(session)
    op = session.run("document total", RunOptions(mode="planned", approve="auto-under:5,20-lines"), view=view)
    assert not view.of("ApprovalRequested") and (project / "calc.py").read_text() == NEW
    assert op.status == "completed"

    big = "".join(f"v{i} = {i}\n" for i in range(30))
    mt.use_script(
        mt.Script(
            {
                ORCH: [plan_turn("Add values"), call("refactor_code", path="calc.py", changes_requested="30 values"), "Done.", "Added."],
                EXEC: [f"```python\n{big}```\nok"],
            }
        )
    )
    view = Answering(session, False)
    session.run("add values", RunOptions(mode="planned", approve="auto-under:5,20-lines"), view=view)
    (asked,) = view.of("ApprovalRequested")
    assert asked.added == 30 and asked.why == "Mira.approve = auto-under:5,20-lines"
    assert (project / "calc.py").read_text() == NEW


def test_auto_under_asks_once_the_operation_has_cost_more(session, project):
    edit_script()
    view = Answering(session, True)
    session.run("document total", RunOptions(mode="planned", approve="auto-under:0.000001"), view=view)
    (asked,) = view.of("ApprovalRequested")  # planning alone cost more than a millionth of a dollar
    assert asked.added == 1 and (project / "calc.py").read_text() == NEW


def test_a_bad_per_cell_setting_fails_before_any_call(session, project):
    script = edit_script()
    with pytest.raises(ValueError, match="--approve must be never, writes"):
        session.run("document total", RunOptions(mode="planned", approve="sometimes"))
    assert script.requests == [] and session.engine.operations == {}


def test_a_refused_target_is_refused_before_anyone_is_asked(session, project):
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[core]\n")
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Edit the git config"),
                    call("generate_code", path=".git/config", description="add a hook path"),
                    call("generate_code", path="../outside.py", description="x"),
                    "Could not.",
                    "Refused.",
                ],
            }
        )
    )
    view = Answering(session)
    session.run("edit .git/config", PLANNED, view=view)
    assert not view.of("ApprovalRequested")  # nobody is asked to approve what cannot happen
    assert (project / ".git" / "config").read_text() == "[core]\n"
    reasons = {r[2] for r in logged_tool_calls(session) if r[0] == "generate_code"}
    assert reasons == {"protected_path", "outside_root"}


def test_writing_the_same_bytes_again_does_not_ask(session, project):
    (project / "calc.py").write_text(NEW)
    edit_script()
    view = Answering(session)
    session.run("document total", PLANNED, view=view)
    assert not view.of("ApprovalRequested") and (project / "calc.py").read_text() == NEW
