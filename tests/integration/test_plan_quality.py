"""Plan quality you can see (issue 14, item 7): per operation, tasks planned, completed,
failed, added and dropped, and the tokens per task, from a real log of real operations."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, call

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store import analytics
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    return root


def plan(*tasks) -> dict:
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": list(tasks)}}]}


def test_plan_quality_counts_what_each_plan_became(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script(
        {
            ORCH: [
                # operation 1: three tasks, the second fails, the third depended on it
                plan(
                    {"description": "Read app.py", "active_form": "Reading app.py"},
                    {"description": "Fix helpers.py", "active_form": "Fixing helpers.py"},
                    {"description": "Test the fix", "active_form": "Testing", "depends_on": [2]},
                ),
                "read it",
                call("refactor_code", path="helpers.py", changes_requested="split"),
                "I tried.",
                "Partly done.",
                # operation 2: a simple question, no plan
                "x is 1.",
            ]
        }
    )
    h = Harness(project, script)
    recorder = Recorder(db, SessionInfo.current(str(project), "s1"))
    h.bus.subscribe(recorder)
    planned = h.engine.run("fix the helpers", RunOptions(mode="planned"))
    h.engine.run("what is x?", RunOptions(mode="simple"))
    assert recorder.close()
    frame = analytics.plan_quality(db)
    assert list(frame["operation_id"]) == [planned.id]  # simple mode has no plan
    row = frame.iloc[0]
    assert (row.tasks_planned, row.tasks_completed, row.tasks_failed) == (3, 1, 1)
    assert (row.tasks_added, row.tasks_dropped) == (0, 1)  # the skipped task never started
    assert row.plan_source == "structured"
    task_tokens = sum(
        e.usage.input_tokens + e.usage.output_tokens
        for e in h.of("LLMCallFinished")
        if e.task_id is not None
    )
    assert row.task_tokens == task_tokens > 0
    assert row.tokens_per_task == pytest.approx(task_tokens / 3)
    assert row.completion_ratio == pytest.approx(1 / 3)
