"""Regression tests for problems found in review: data loss, budget leaks, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn
from IPython.core.interactiveshell import InteractiveShell
from test_magics import usage_error_line

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.session import Session


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "README.md").write_text("# Demo\n")
    return root


def test_a_relative_database_is_protected_where_it_really_is(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    config = Mira()
    config.project_root = ".."
    config.database = "notebooks/log.duckdb"
    config.orchestrator_model, config.executor_model = f"scripted:{ORCH}", f"scripted:{EXEC}"
    script = mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Wipe the log"),
                    call("generate_code", path="notebooks/log.duckdb", description="x"),
                    call("generate_code", path="notebooks/log.duckdb.journal/evil.jsonl", description="x"),
                    "tried",
                    "done",
                ],
                EXEC: ["```\nwiped\n```", "```\nevil\n```"],
            }
        )
    )
    session = Session(config)
    op = session.run("wipe the log", RunOptions(mode="planned"))
    session.close()
    # both writes refused: the task achieved nothing and failed, saying so (issue 14)
    assert op.status == "failed" and "generate_code denied" in op.tasks[0].error
    assert config.resolved_database() == str(project / "notebooks" / "log.duckdb")
    log = project / "notebooks" / "log.duckdb"
    assert log.read_bytes()[:8] != b"wiped\n" and log.stat().st_size > 1000
    assert not (project / "notebooks" / "log.duckdb.journal" / "evil.jsonl").exists()
    assert script.requests_for(EXEC) == [], "protected targets are refused before the executor works"


def test_markdown_with_its_own_fences_is_written_whole(project):
    doc = "# Tool\n\n```python\nimport tool\n```\n\n## Licence\nMIT\n"
    script = mt.Script(
        {
            ORCH: [plan_turn("Write docs"), call("generate_code", path="DOC.md", description="docs"), "ok", "done"],
            EXEC: ["````markdown\n" + doc + "````\nWrote the docs."],
        }
    )
    h = Harness(project, script)
    assert h.engine.run("write DOC.md", RunOptions(mode="planned")).status == "completed"
    assert (project / "DOC.md").read_text() == doc


def test_an_existing_file_that_cannot_be_read_is_never_overwritten_blind(project):
    latin = project / "notes.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    script = mt.Script(
        {ORCH: [plan_turn("Rewrite notes"), call("generate_code", path="notes.txt", description="x"), "no", "done"]}
    )
    h = Harness(project, script)
    h.engine.run("rewrite notes.txt", RunOptions(mode="planned"))
    assert latin.read_bytes() == "caf\xe9\n".encode("latin-1")
    (result,) = [e for e in h.of("ToolCallFinished") if e.tool == "generate_code"]
    assert result.status == "denied" and "left untouched" in result.error
    assert script.requests_for(EXEC) == [], "the executor was never asked"


def test_the_budget_caps_each_reply_and_a_stop_inside_a_delegation_ends_the_operation(project):
    script = mt.Script(
        {
            ORCH: [plan_turn("Summarise"), call("get_file_summary", paths=["README.md"]), "x", "y"],
            # the provider counts a huge prompt on the executor's first turn ($0.084, far more
            # than our tokenizer saw): the budget is used up mid-delegation
            EXEC: [{**call("summarize_file", path="README.md"), "usage": {"input": 300_000, "output": 10}}, "summary"],
        }
    )
    h = Harness(project, script)
    options = RunOptions(mode="planned", reasoning="low", budget_usd=Decimal("0.08"))
    op = h.engine.run("summarise", options)
    sent = [r.body.get("max_completion_tokens") for r in script.requests]
    assert all(isinstance(limit, int) and limit >= 1024 for limit in sent)
    assert op.status == "budget_exceeded", "the stop inside the delegation was not swallowed"
    stopped = [e for e in h.of("ToolCallFinished") if e.tool == "get_file_summary"]
    assert stopped and stopped[0].error.startswith("stopped: budget")


def test_running_a_plan_keeps_the_budget_it_was_made_with(project):
    script = mt.Script({ORCH: [plan_turn("One"), "one", "done"]})
    h = Harness(project, script)
    planned = h.engine.run("one thing", RunOptions(mode="planned", plan_only=True, budget_usd=Decimal("5")))
    h.engine.resume(planned.id)
    (resumed,) = h.of("OperationResumed")
    assert resumed.budget_usd == Decimal("5")


def test_plan_only_on_a_question_still_plans(project):
    script = mt.Script({ORCH: [plan_turn("Look"), "unused"]})
    op = Harness(project, script).engine.run("what does this project do?", RunOptions(plan_only=True))
    assert op.mode == "planned" and op.status == "planned"


def test_a_failing_view_does_not_stop_or_orphan_the_operation(project, caplog):
    mt.use_script(mt.Script({ORCH: ["fine"]}))
    config = Mira()
    config.project_root = str(project)
    config.orchestrator_model = f"scripted:{ORCH}"

    def broken_view(event):
        raise RuntimeError("widget broke")

    session = Session(config)
    op = session.run("what is this?", view=broken_view)
    session.close()
    assert op.status == "completed" and op.text == "fine"
    assert sum("the view failed" in r.message for r in caplog.records) == 1


@pytest.fixture()
def shell(project, monkeypatch):
    monkeypatch.chdir(project)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mira_jupyter")
    ip.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
    ip.run_line_magic("config", 'Mira.view = "text"')
    yield ip
    ip.run_line_magic("unload_ext", "mira_jupyter")
    InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    ("kind", "line", "message"),
    [
        ("cell", "--budget NaN", "--budget must be a finite amount"),
        ("cell", "--budget Infinity", "--budget must be a finite amount"),
        ("cell", "--plan-only --mode simple", "--plan-only makes a plan"),
        # `export out.parquet` is not bad input: it writes the operations, as its help says
        # (test_magics_one_line.py checks the file)
        ("line", "run op_x --budget abc", "--budget must be an amount"),
    ],
)
def test_more_bad_input_is_one_line(shell, capsys, kind, line, message):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    if kind == "cell":
        code = f"%%mira {line}\nwhat is this?"
    else:
        shell.run_cell_magic("mira", "", "what is this?")
        capsys.readouterr()
        code = f"%mira {line}"
    assert message in usage_error_line(shell, capsys, code)


def test_a_malformed_budget_variable_is_one_line(shell, capsys, monkeypatch):
    monkeypatch.setenv("MIRA_BUDGET_USD", "lots")
    shell.run_line_magic("unload_ext", "mira_jupyter")
    shell.run_line_magic("load_ext", "mira_jupyter")
    shell.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
    assert "MIRA_BUDGET_USD must be an amount in USD" in usage_error_line(
        shell, capsys, "%%mira\nwhat is this?"
    )


def test_a_resume_that_cannot_start_settles_its_tasks(project):
    import shutil

    script = mt.Script({ORCH: [plan_turn("One", "Two")]})
    h = Harness(project, script)
    planned = h.engine.run("two things", RunOptions(mode="planned", plan_only=True))
    shutil.rmtree(project)  # the sandbox root is gone: the run cannot be set up
    done = h.engine.resume(planned.id)
    assert done.status == "failed" and "sandbox root" in done.error
    assert [t.status for t in done.tasks] == ["failed", "failed"]
    assert len(h.of("TaskFailed")) == 2
