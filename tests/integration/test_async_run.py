"""One run path: run/resume and run_async/resume_async share their logic and differ only in
how they wait (httpx's Client/AsyncClient pattern); the Run button and %mira run use it."""

from __future__ import annotations

import asyncio

import pytest
from engine_helpers import EXEC, ORCH, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.notebook.magics import async_cell_transformer
from mira_jupyter.session import Session

PLAN_ONLY = RunOptions(mode="planned", plan_only=True)
AWAIT = "await get_ipython()._mira_magics.mira_line_async(get_ipython().var_expand({}))\n"


@pytest.fixture()
def session(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "data.py").write_text("rows = [1, 2, 3]\n")
    config = Mira()
    config.project_root = str(project)
    config.database = str(tmp_path / "log.duckdb")
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = f"scripted:{EXEC}"
    s = Session(config)
    yield s
    s.close()


def in_a_thread(func):
    """func() on a thread of its own: no event loop runs there (the session's Playwright may
    leave one running on the main thread when the browser tests ran first)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(func).result(timeout=120)


def script():
    return mt.use_script(mt.Script({ORCH: [plan_turn("One", "Two"), "did one", "did two", "Both done."]}))


def test_sync_and_async_resume_deliver_the_same_events(session):
    runs = {}
    for name in ("sync", "async"):
        script()
        planned = session.run("do two things", PLAN_ONLY)
        assert planned.status == "planned"
        seen = []
        if name == "sync":
            done = session.resume(planned.id, view=seen.append)
        else:
            resume = session.resume_async(planned.id, view=seen.append)
            done = in_a_thread(lambda resume=resume: asyncio.run(resume))
        assert done.status == "completed" and done.id == planned.id
        runs[name] = [e.type for e in seen]
    assert runs["sync"] == runs["async"]
    assert runs["async"][0] == "OperationResumed" and runs["async"][-1] == "OperationFinished"
    assert runs["async"].count("TaskCompleted") == 2


def test_resume_soon_on_a_running_loop_returns_at_once_and_the_task_runs_the_plan(session):
    script()
    planned = session.run("do two things", PLAN_ONLY)
    seen = []

    async def click_run():
        task = session.resume_soon(planned.id, view=seen.append)
        assert isinstance(task, asyncio.Task) and not task.done()  # the callback did not block
        return await task

    done = in_a_thread(lambda: asyncio.run(click_run()))
    assert done.status == "completed" and seen[-1].type == "OperationFinished"


def test_resume_soon_without_a_loop_resumes_now(session):
    script()
    planned = session.run("do two things", PLAN_ONLY)
    assert in_a_thread(lambda: session.resume_soon(planned.id)).status == "completed"


def test_cancelling_an_async_resume_stops_the_plan(session):
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("One", "Two"),
                    {"text": "slow " * 50, "fault": "stall", "stall_seconds": 60, "after_chunks": 2},
                ]
            }
        )
    )
    planned = session.run("do two things", PLAN_ONLY)
    cancel = CancelToken()
    seen = []

    def view(event):
        seen.append(event)
        if event.type == "LLMCallStarted":  # the first task's model call is out: press Stop
            cancel.cancel("stopped with the Stop button")

    done = in_a_thread(lambda: asyncio.run(session.resume_async(planned.id, view=view, cancel=cancel)))
    assert done.status == "cancelled", (done.status, done.error, [e.type for e in seen])
    assert seen[-1].type == "OperationFinished" and seen[-1].status == "cancelled"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("%mira run op_1\n", [AWAIT.format("'run op_1'")]),
        ("x = 1\n%mira run {op.id} --budget 1\n", ["x = 1\n", AWAIT.format("'run {op.id} --budget 1'")]),
        ("%mira history\n", ["%mira history\n"]),
        ("if True:\n    %mira run op_1\n", ["if True:\n", "    %mira run op_1\n"]),
        ("%%bash\n%mira run op_1\n", ["%%bash\n", "%mira run op_1\n"]),
        ("%mira runner\n", ["%mira runner\n"]),
        # r11d F6: the lines that start an operation are awaited too
        ("%mira fix\n", [AWAIT.format("'fix'")]),
        ("%mira fix keep it's API\n", [AWAIT.format('"fix keep it\'s API"')]),
        ("%mira_skill testing add tests\n", [AWAIT.replace("mira_line_async", "mira_skill_async").format("'testing add tests'")]),
        ("%mira_skill testing\n", ["%mira_skill testing\n"]),  # shows the skill: nothing runs
        ("%mira_skill\n", ["%mira_skill\n"]),
        ("%mira fixes\n", ["%mira fixes\n"]),
        # r11d F7: a question mark at the end is in the quoted argument, out of IPython's help syntax
        ("%mira fix why does this fail?\n", [AWAIT.format("'fix why does this fail?'")]),
    ],
)
def test_the_transformer_awaits_mira_run_lines_only(cell, expected):
    lines = cell.splitlines(keepends=True)
    assert async_cell_transformer(lines) == expected


def test_both_waits_end_the_same_way_printing_notices_without_waiting_for_the_log(session, monkeypatch):
    # the cell does not wait for DuckDB (the recorder writes after it returns; the events
    # are journaled already): neither wait flushes
    ends = {}
    for name in ("sync", "async"):
        seen = []
        monkeypatch.setattr(session, "flush", lambda timeout=5.0, seen=seen: seen.append(("flush", timeout)))
        monkeypatch.setattr(session, "print_store_notices", lambda seen=seen: seen.append(("notices",)))
        script()
        if name == "sync":
            session.run("do two things", PLAN_ONLY)
        else:
            in_a_thread(lambda: asyncio.run(session.run_async("do two things", PLAN_ONLY)))
        ends[name] = seen
    assert ends["sync"] == ends["async"] == [("notices",)]


class ZMQInteractiveShell:
    """A stand-in kernel shell by class name (choose_view picks the widget), with no frontend."""

    kernel = None


def test_a_run_button_run_that_fails_on_the_loop_says_so_in_its_widget(session):
    # the Run button's plan runs as a task of the kernel's loop: a failure there used to go
    # only to the kernel's log, leaving "Running…" and the plan on screen for ever
    from mira_jupyter.ui import choose_view

    script()
    widget = choose_view("widget", session=session, shell=ZMQInteractiveShell())
    planned = session.run("do two things", PLAN_ONLY, view=widget)
    assert widget.state.status == "planned" and not widget.closed
    session.config.project_root = "/"  # refused when the run starts, on the loop

    async def click_run():
        widget._w["run"].click()
        for _ in range(500):  # the task runs once this coroutine yields
            if "Run failed" in widget._w["notices"].value:
                break
            await asyncio.sleep(0.01)

    in_a_thread(lambda: asyncio.run(click_run()))
    notices = widget._w["notices"]
    assert "Run failed" in notices.value and "the whole file system" in notices.value, notices.value
    assert notices.layout.display == ""  # said where the user looks
    assert widget._w["run"].description == "Run failed"
    assert planned.id in session.engine.planned_operations()  # nothing lost: it can still run


def test_the_sync_entry_points_drive_the_one_awaitable_path(session, monkeypatch):
    # run/resume are thin wrappers: the same coroutine as run_async/resume_async, driven
    # without an event loop (so the two cannot drift apart again)
    paths = []
    operate = Session._operate

    def spy(self, pump, **kwargs):
        paths.append(("blocking" if kwargs.get("blocking") else "awaited", pump.operation_id))
        return operate(self, pump, **kwargs)

    monkeypatch.setattr(Session, "_operate", spy)
    script()
    planned = session.run("do two things", PLAN_ONLY)
    assert session.resume(planned.id).status == "completed"
    script()
    planned2 = in_a_thread(lambda: asyncio.run(session.run_async("do two things", PLAN_ONLY)))
    assert in_a_thread(lambda: asyncio.run(session.resume_async(planned2.id))).status == "completed"
    assert [kind for kind, _ in paths] == ["blocking", "blocking", "awaited", "awaited"]
    assert [op for _, op in paths] == [planned.id, planned.id, planned2.id, planned2.id]


def test_the_sync_run_works_inside_a_running_event_loop(session):
    # a library call from a cell whose loop is running (asyncio.run would refuse there)
    script()

    async def cell():
        return session.run("do two things", PLAN_ONLY)

    assert in_a_thread(lambda: asyncio.run(cell())).status == "planned"
