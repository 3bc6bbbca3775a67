"""The magics inside a real IPython shell, logging to a real DuckDB file."""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, call, mira_shell, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.notebook.args import MiraUsageError
from mira_jupyter.store import analytics


def usage_error_line(shell, capsys, code: str) -> str:
    """Run `code` as a cell; it must fail with one ``UsageError: …`` line and no traceback."""
    result = shell.run_cell(code)
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, MiraUsageError) and not result.success
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), captured.err
    assert "Traceback" not in captured.out + captured.err
    return lines[0]


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "data.py").write_text("rows = [1, 2, 3]\n")
    monkeypatch.chdir(project)
    yield from mira_shell()


def test_cell_runs_streams_returns_operation_and_is_logged(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: ["The project has one module, data.py."]}))
    shell.user_ns["topic"] = "this project"
    op = shell.run_cell_magic("mira", "-o result", "what is {topic} about? keep {braces: 1} intact")
    out = capsys.readouterr().out
    assert "The project has one module, data.py." in out
    assert op.status == "completed" and shell.user_ns["result"] is op
    sent = script.requests[0].messages[-2]["content"]  # the last is simple mode's snapshot
    assert sent == "what is this project about? keep {braces: 1} intact"
    frame = shell.run_line_magic("mira", "history -n 5")
    assert list(frame["operation_id"]) == [op.id]
    assert frame.iloc[0]["status"] == "completed"


def test_history_shows_the_readable_columns_and_all_of_them_with_all(shell, capsys):
    from mira_jupyter.notebook.tables import HISTORY_COLUMNS

    mt.use_script(mt.Script({ORCH: ["Done."]}))
    op = shell.run_cell_magic("mira", "--mode simple", "say done")
    frame = shell.run_line_magic("mira", "history")
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    row = frame.iloc[0]
    assert (row["operation_id"], row["status"], row["mode"], row["request"]) == (op.id, "completed", "simple", "say done")
    assert row["cost"].startswith("$") and row["duration"].endswith(("ms", "s"))
    assert row["started"].microsecond == 0
    every = shell.run_line_magic("mira", "history --all")
    assert {"started_at", "finished_at", "cost_usd", "llm_calls", "result_text", "duration_s"} <= set(every.columns)
    assert len(every.columns) > len(frame.columns)


def test_planned_cell_changes_a_file_and_undo_restores_it(shell, capsys, tmp_path):
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Rewrite data.py"),
                    call("refactor_code", path="data.py", changes_requested="use a tuple"),
                    "rewrote it",
                    "data.py now uses a tuple.",
                ],
                EXEC: ["```python\nrows = (1, 2, 3)\n```"],
            }
        )
    )
    op = shell.run_cell_magic("mira", "--mode planned", "make rows a tuple in data.py")
    data = tmp_path / "proj" / "data.py"
    assert data.read_text() == "rows = (1, 2, 3)\n"
    assert op.files_changed == ["data.py"]
    report = shell.run_line_magic("mira", f"undo {op.id}")
    assert report.restored == ["data.py"]
    assert data.read_text() == "rows = [1, 2, 3]\n"
    assert "restored data.py" in report.describe()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--mode fast", "--mode must be auto, simple or planned"),
        ("--budget abc", "--budget must be an amount in USD"),
        ("--budget -1", "--budget must be positive"),
        ("-r sleepy", "reasoning"),
        ("-m gpt5", "provider:model"),
        ("--no-such-flag", "unrecognized arguments"),
    ],
)
def test_bad_options_fail_the_cell_with_one_line_and_run_nothing(shell, capsys, line, message):
    script = mt.use_script(mt.Script({ORCH: []}))
    assert message in usage_error_line(shell, capsys, f"%%mira {line}\nwhat is this?")
    assert script.requests == []
    with pytest.raises(MiraUsageError) as info:  # called from code: the error itself
        shell.run_cell_magic("mira", line, "what is this?")
    assert message in str(info.value)


def test_status_shows_models_and_key_presence_never_values(shell, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-THIS-MUST-NOT-APPEAR")
    shell.run_line_magic("mira", "status")
    out = capsys.readouterr().out
    assert f"scripted:{ORCH}" in out and "OPENAI_API_KEY set" in out
    assert "THIS-MUST-NOT-APPEAR" not in out


def test_status_names_the_project_instructions_file_and_its_size(shell, capsys, tmp_path):
    shell.run_line_magic("mira", "status")
    assert "instructions       : none (add AGENTS.md" in capsys.readouterr().out
    (tmp_path / "proj" / "AGENTS.md").write_text("Run pytest -q before answering.\n")
    shell.run_line_magic("mira", "status")
    assert "instructions       : AGENTS.md (32 bytes, 7 tokens)" in capsys.readouterr().out


def test_unknown_subcommand_and_help(shell, capsys):
    assert "unknown subcommand 'frobnicate'" in usage_error_line(shell, capsys, "%mira frobnicate")
    shell.run_line_magic("mira", "help")
    out = capsys.readouterr().out
    assert "--plan-only" in out and "usage: %mira undo" in out  # plain text outside Jupyter


def test_costs_returns_a_frame_after_an_operation(shell, capsys):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    shell.run_cell_magic("mira", "", "what is this?")
    frame = shell.run_line_magic("mira", "costs --by role --no-chart")
    assert "orchestrator" in set(frame["role"])
    assert float(frame["cost_usd"].sum()) > 0
    assert analytics.history(shell._mira_magics.session.database, n=1).shape[0] == 1


def test_costs_by_user_and_host(shell, capsys, monkeypatch):
    from mira_jupyter.store.session import current_host, current_user

    mt.use_script(mt.Script({ORCH: ["answer"]}))
    shell.run_cell_magic("mira", "", "what is this?")
    by_user = shell.run_line_magic("mira", "costs --by user --no-chart")
    assert by_user["user_name"].tolist() == [current_user()]
    by_host = shell.run_line_magic("mira", "costs --by host --no-chart")
    assert by_host["host"].tolist() == [current_host()]
    assert float(by_host["cost_usd"].sum()) == float(by_user["cost_usd"].sum()) > 0


def test_show_rebuilds_a_past_operation_and_undo_works_from_a_new_session(shell, capsys, tmp_path):
    from mira_jupyter.config import Mira
    from mira_jupyter.session import Session
    from mira_jupyter.undo import undo_operation

    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Create notes.md"),
                    call("generate_code", path="notes.md", description="a notes file"),
                    "created",
                    "Created **notes.md**.",
                ],
                EXEC: ["```markdown\n# Notes\n```"],
            }
        )
    )
    op = shell.run_cell_magic("mira", "--mode planned", "create notes.md")
    capsys.readouterr()
    shell.run_line_magic("mira", f"show {op.id}")
    shown = capsys.readouterr().out
    assert "Create notes.md" in shown and "Created **notes.md**." in shown
    notes = tmp_path / "proj" / "notes.md"
    assert notes.exists()
    # a later kernel: nothing in memory, the log is the only source
    config = Mira()
    config.project_root = str(tmp_path / "proj")
    report = undo_operation(Session(config), op.id)
    assert report.removed == ["notes.md"] and not notes.exists()


def test_show_of_an_unknown_operation_is_one_line(shell, capsys):
    mt.use_script(mt.Script({ORCH: ["x"]}))
    shell.run_cell_magic("mira", "", "what is this?")
    capsys.readouterr()
    line = usage_error_line(shell, capsys, "%mira show op_nope")
    assert line.startswith("UsageError: no operation 'op_nope'")


def test_mira_skill_lists_shows_and_runs(shell, capsys, tmp_path):
    frame = shell.run_line_magic("mira_skill", "")
    assert {"refactoring", "testing", "debugging", "documentation"} <= set(frame["name"])
    shell.run_line_magic("mira_skill", "debugging")
    shown = capsys.readouterr().out
    assert shown.startswith("debugging (orchestrator)") and "debug_code" in shown
    script = mt.use_script(
        mt.Script({ORCH: ["Root cause: none found.", "Nothing is broken."]})
    )
    op = shell.run_line_magic("mira_skill", "debugging why does data.py have three rows?")
    assert op.mode == "skill" and op.skill == "debugging" and op.status == "completed"
    assert script.requests[0].messages[-1]["content"].count("why does data.py have three rows?") >= 1
    assert "no skill named 'nope'" in usage_error_line(shell, capsys, "%mira_skill nope")


def test_project_skill_with_a_broken_file_is_reported_not_fatal(shell, capsys, tmp_path):
    skills = tmp_path / "proj" / ".mira" / "skills"
    skills.mkdir(parents=True)
    (skills / "broken.md").write_text("---\nname: Broken Name\n---\nbody\n")
    frame = shell.run_line_magic("mira_skill", "")
    assert "broken" not in set(frame["name"])
    out = capsys.readouterr().out
    assert "broken.md" in out and "name" in out


def test_plan_only_then_run_is_one_row_in_the_log(shell, capsys):
    mt.use_script(mt.Script({ORCH: [plan_turn("One", "Two"), "did one", "did two", "Both done."]}))
    planned = shell.run_cell_magic("mira", "--plan-only --mode planned", "do two things")
    assert planned.status == "planned"
    assert "estimated at about $" in capsys.readouterr().out
    frame = shell.run_line_magic("mira", "history")
    assert list(frame["status"]) == ["planned"]
    capsys.readouterr()
    done = shell.run_line_magic("mira", f"run {planned.id}")
    shown = capsys.readouterr().out
    # the view catches up on the stored plan first: header, then the tasks by their names
    assert shown.index("do two things") < shown.index("did one")
    assert "task_" not in shown
    assert done.status == "completed" and done.id == planned.id
    frame = shell.run_line_magic("mira", "history --all")
    assert list(frame["operation_id"]) == [planned.id]
    assert list(frame["status"]) == ["completed"] and frame.iloc[0]["tasks_completed"] == 2
    line = usage_error_line(shell, capsys, f"%mira run {planned.id}")
    assert "is not a plan-only operation of this session" in line


def test_skill_written_during_the_session_is_found_and_prompts_hold_no_local_paths(shell, tmp_path):
    mt.use_script(mt.Script({ORCH: ["a"]}))
    shell.run_cell_magic("mira", "", "what is this?")  # the registry now exists
    skills = tmp_path / "proj" / ".mira" / "skills"
    skills.mkdir(parents=True)
    (skills / "haiku.md").write_text(
        "---\nname: haiku\ndescription: Answer as a haiku.\nallowed-tools: list_project_files\n"
        "model: orchestrator\n---\nAnswer {user_request} as a haiku.\n"
    )
    script = mt.use_script(mt.Script({ORCH: ["five seven five", "A haiku."]}))
    op = shell.run_cell_magic("mira", "--skill haiku", "describe data.py")
    assert op.status == "completed", op.error
    sent = str([r.messages for r in script.requests])
    assert str(tmp_path) not in sent and "`proj`" in sent


def test_r_minimal_reaches_gpt5_and_the_typed_word_is_kept(shell, capsys):
    # issue 14: -r minimal was refused (the log keeping the word typed: test_skills_and_effort)
    script = mt.use_script(mt.Script({ORCH: ["Two.", "Four."]}))
    op = shell.run_cell_magic("mira", "--mode simple -r minimal", "what is 1+1?")
    assert op.status == "completed", op.error
    op = shell.run_cell_magic("mira", "--mode simple -r deep", "what is 2+2?")
    assert [r.reasoning_effort for r in script.requests] == ["minimal", "high"]


def test_costs_by_task_shows_the_plan_quality(shell, capsys):
    mt.use_script(
        mt.Script({ORCH: [plan_turn("Read data.py", "Summarise it"), "read", "summed up", "Done."]})
    )
    op = shell.run_cell_magic("mira", "--mode planned", "summarise data.py")
    capsys.readouterr()
    frame = shell.run_line_magic("mira", "costs --by task --no-chart")
    shown = capsys.readouterr().out
    quality = frame.attrs["plan_quality"]
    assert list(quality["operation_id"]) == [op.id]
    assert quality.iloc[0]["tasks_planned"] == 2 and quality.iloc[0]["tasks_completed"] == 2
    assert op.id in shown  # displayed, not only attached
