"""Bad input to the magics gets one line, runs nothing it should not, and loses nothing."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from engine_helpers import EXEC, ORCH, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.notebook.args import MiraUsageError
from mira_jupyter.store import analytics


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    yield from mira_shell()


def one_line(shell, capsys, caplog, code: str) -> str:
    """Run `code` as a cell: it fails with one ``UsageError: …`` line, no traceback, no log error."""
    result = shell.run_cell(code)
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, MiraUsageError) and not result.success
    assert "Traceback" not in captured.out + captured.err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), captured.err
    return lines[0]


def test_unknown_provider_in_model_option_is_one_line_and_sends_nothing(shell, capsys, caplog):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    line = one_line(shell, capsys, caplog, "%%mira -m nosuch:model\nwhat is this?")
    assert "unknown provider 'nosuch'" in line
    assert script.requests == []


@pytest.mark.parametrize("name", ["\udcff", "gpt\x00-5", "gpt-5\x1b[31m", "gpt\u200b5"])
def test_a_model_name_with_a_surrogate_or_control_character_is_one_line(shell, capsys, caplog, name):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    line = one_line(shell, capsys, caplog, f"%%mira -m scripted:{name} --mode simple\nhi")
    assert "has no valid model name after 'scripted'" in line
    assert script.requests == []


@pytest.mark.parametrize("quoted", ["'scripted:gpt-5'", '"scripted:gpt-5"'])
def test_a_quoted_model_option_means_the_model_inside_the_quotes(shell, capsys, quoted):
    script = mt.use_script(mt.Script({ORCH: ["answered"]}))
    op = shell.run_cell_magic("mira", f"-m {quoted} --mode simple", "what is this?")
    assert op.status == "completed", op.error
    assert op.models["orchestrator"] == "scripted:gpt-5"
    assert [r.model for r in script.requests] == [ORCH]


@pytest.mark.parametrize("empty", ["''", '""', "' '"])
def test_an_empty_model_option_is_one_line_not_the_default_model(shell, capsys, caplog, empty):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    line = one_line(shell, capsys, caplog, f"%%mira -m {empty} --mode simple\nhi")
    assert "must look like provider:model" in line
    assert script.requests == []


def test_spaces_around_a_model_option_are_not_part_of_the_id(shell):
    script = mt.use_script(mt.Script({ORCH: ["answered"]}))
    op = shell.run_cell_magic("mira", "-m ' scripted:gpt-5 ' --mode simple", "what is this?")
    assert op.status == "completed", op.error
    assert op.models["orchestrator"] == "scripted:gpt-5"
    assert [r.model for r in script.requests] == [ORCH]


def test_quoted_openai_model_fails_on_its_key_not_on_the_quotes(shell, capsys):
    op = shell.run_cell_magic("mira", "-m 'openai:gpt-5' --mode simple", "what is this?")
    assert op.models["orchestrator"] == "openai:gpt-5"
    assert op.status == "failed" and "OPENAI_API_KEY is not set" in op.error
    assert "unknown provider" not in capsys.readouterr().out


def test_a_bad_model_in_the_configuration_fails_the_operation_in_one_line(shell, capsys, caplog):
    shell.run_line_magic("config", 'Mira.executor_model = "nosuch:model"')
    op = shell.run_cell_magic("mira", "--mode simple", "what is this?")
    assert op.status == "failed" and op.error.startswith("unknown provider 'nosuch'")
    assert "internal error" not in op.error
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("history -n -5", "n must be a positive number"),
        ("history -n 0", "n must be a positive number"),
        ("export ''", "export needs a target"),
        ("export /dev/null", "/dev/null is not a regular file or a directory"),
        ("export", "export needs a target: FILE.parquet, DIRECTORY or --to ducklake:"),
        ("export --to md:team_log", "export --to needs a ducklake: location"),
        ("export --to ducklake:postgres:dbname=x --from /nonexistent/mira.duckdb", "there is no log at /nonexistent/mira.duckdb"),
    ],
)
def test_bad_subcommand_arguments_are_one_line(shell, capsys, caplog, line, message):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    shell.run_cell_magic("mira", "--mode simple", "what is this?")
    capsys.readouterr()
    before = sorted(p.name for p in (shell._mira_magics.session.config.resolved_root()).iterdir())
    assert message in one_line(shell, capsys, caplog, f"%mira {line}")
    after = sorted(p.name for p in (shell._mira_magics.session.config.resolved_root()).iterdir())
    assert after == before  # `export ''` used to write 7 Parquet files into the project


def test_export_onto_an_existing_file_without_parquet_suffix_is_one_line(shell, capsys, caplog, tmp_path):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    shell.run_cell_magic("mira", "--mode simple", "what is this?")
    capsys.readouterr()
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n")
    assert "is a file" in one_line(shell, capsys, caplog, f"%mira export {target}")
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize("target", ["/proc/self", "/proc/self/ops.parquet", "/sys/kernel"])
def test_export_to_a_directory_nothing_can_be_written_in_names_the_target(shell, capsys, caplog, target):
    """r10c F7: it said 'the log database failed: IO Error' about a log that was fine."""
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    shell.run_cell_magic("mira", "--mode simple", "what is this?")
    capsys.readouterr()
    line = one_line(shell, capsys, caplog, f"%mira export {target}")
    assert "cannot write the export into" in line and "log database" not in line


def test_export_to_one_parquet_file_writes_the_operations_as_the_help_says(shell, capsys, tmp_path):
    import duckdb

    mt.use_script(mt.Script({ORCH: ["answer"]}))
    op = shell.run_cell_magic("mira", "--mode simple", "what is this?")
    shell._mira_magics.session.flush(30)
    capsys.readouterr()
    target = tmp_path / "ops.parquet"
    shell.run_line_magic("mira", f"export {target}")
    assert f"wrote {target}" in capsys.readouterr().out
    ids = [r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet('{target}')").fetchall()]
    assert op.id in ids


def test_history_with_a_huge_n_returns_everything(shell, capsys):
    mt.use_script(mt.Script({ORCH: ["one", "two"]}))
    shell.run_cell_magic("mira", "--mode simple", "what is this?")
    shell.run_cell_magic("mira", "--mode simple", "what is that?")
    frame = shell.run_line_magic("mira", "history -n 99999999999999999999")
    assert len(frame) == 2


def test_costs_since_before_year_one_means_all_time(shell, capsys):
    mt.use_script(mt.Script({ORCH: ["one"]}))
    shell.run_cell_magic("mira", "--mode simple", "what is this?")
    capsys.readouterr()
    frame = shell.run_line_magic("mira", "costs --since 99999999d --no-chart")
    assert float(frame["cost_usd"].sum()) > 0
    assert "Traceback" not in capsys.readouterr().out


@pytest.mark.parametrize("budget", ["1e999", "2000000"])
def test_an_unstorable_budget_is_refused_before_the_operation_starts(shell, capsys, caplog, budget):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    line = one_line(shell, capsys, caplog, f"%%mira --budget {budget}\nwhat is this?")
    assert "--budget must be" in line
    assert script.requests == []


def test_huge_budget_through_the_engine_is_refused_and_the_log_stays_whole(tmp_path):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    database = str(tmp_path / "log.duckdb")
    settings = EngineSettings(
        project_root=tmp_path,
        orchestrator_model=f"scripted:{ORCH}",
        executor_model=f"scripted:{EXEC}",
        database=database,
    )
    engine = Engine(settings)
    events = []
    engine.bus.subscribe(events.append)
    with pytest.raises(ValueError, match="budget_usd must be at most"):
        engine.run("what is this?", RunOptions(mode="simple", budget_usd=Decimal("1e999")))
    assert events == []  # nothing half-recorded: no operation without its request


def test_session_budget_beyond_what_the_log_stores_is_refused(shell):
    from traitlets import TraitError

    with pytest.raises((ValueError, TraitError), match="at most"):
        shell._mira_magics.mira_config.budget_usd = 1e300


@pytest.mark.parametrize(
    "name",
    ["get_ipython", "__builtins__", "print", "len", "open", "In", "Out", "exit", "_", "_x", "_oh", "class",
     "\uff50\uff52\uff49\uff4e\uff54", "\uff3fx"],  # r10c F5: fullwidth 'print' is print to Python
)
def test_output_name_that_would_break_the_notebook_is_refused(shell, capsys, caplog, name):
    script = mt.use_script(mt.Script({ORCH: ["never sent"]}))
    before = shell.user_ns.get(name, "absent")
    assert "-o/--output" in one_line(shell, capsys, caplog, f"%%mira -o {name}\nwhat is this?")
    assert shell.user_ns.get(name, "absent") is before
    assert script.requests == []


def test_an_ordinary_output_name_still_works(shell, capsys):
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    op = shell.run_cell_magic("mira", "-o result_1 --mode simple", "what is this?")
    assert shell.user_ns["result_1"] is op


def test_an_output_name_in_compatibility_letters_binds_the_name_python_reads(shell, capsys):
    """r10c F5: -o with fullwidth letters bound a name no cell could reach."""
    mt.use_script(mt.Script({ORCH: ["answer"]}))
    op = shell.run_cell_magic("mira", "-o \uff52\uff45\uff53\uff55\uff4c\uff54 --mode simple", "what is this?")
    assert shell.user_ns["result"] is op
    shell.run_cell("same = \uff52\uff45\uff53\uff55\uff4c\uff54")
    assert shell.user_ns["same"] is op


def test_history_of_an_analytics_caller_with_bad_n(tmp_path):
    with pytest.raises(ValueError, match="positive"):
        analytics.history(str(tmp_path / "none.duckdb"), n=-1)
