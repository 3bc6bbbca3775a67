"""Strings that are not valid Unicode: lone surrogates in paths, names and tool arguments."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import World, assert_denied

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.session import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from engine_helpers import EXEC, ORCH, call, plan_turn  # noqa: E402

SURROGATE_PATH = "notes\udcff.md"  # os functions map it to the bytes b"notes\xff.md"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs non-UTF-8 file names")


@pytest.fixture
def world_with_bad_name(world: World) -> World:
    # a file whose name is not UTF-8: it exists, and the surrogate path would reach it
    os.close(os.open(os.fsencode(world.root) + b"/notes\xff.md", os.O_CREAT | os.O_WRONLY))
    Path(os.fsdecode(os.fsencode(world.root) + b"/notes\xff.md")).write_text("hidden\n")
    return world


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": SURROGATE_PATH}),
        ("write_file", {"path": SURROGATE_PATH, "content": "x"}),
        ("summarize_file", {"path": SURROGATE_PATH}),
        ("list_files", {"directory": "src\udc80"}),
        ("grep_files", {"pattern": "hidden", "path": SURROGATE_PATH}),
        ("extract_symbols", {"path": SURROGATE_PATH}),
    ],
)
def test_a_lone_surrogate_in_a_path_is_an_invalid_path(
    world_with_bad_name: World, tool: str, args: dict
) -> None:
    assert_denied(world_with_bad_name.call(tool, **args), "invalid_path")


def test_count_lines_reports_the_surrogate_path_as_invalid(world_with_bad_name: World) -> None:
    result = world_with_bad_name.call("count_lines", paths=[SURROGATE_PATH, "notes.txt"])
    assert result.content["files"][0]["reason"] == "invalid_path"
    assert result.content["files"][1]["lines"] == 2


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_files", {"recursive": True}),
        ("list_files", {}),
        ("grep_files", {"pattern": "hidden"}),
    ],
)
def test_listings_and_searches_never_return_invalid_text(
    world_with_bad_name: World, tool: str, args: dict
) -> None:
    result = world_with_bad_name.call(tool, **args)
    assert result.status == "ok"
    result.to_model_text().encode("utf-8")  # what goes to the model is valid UTF-8


def test_write_file_content_with_a_lone_surrogate_is_refused(world: World) -> None:
    result = world.call("write_file", path="ok.txt", content="bad \udcff text")
    assert result.status == "denied" and result.denial_reason == "invalid_arguments"
    assert not (world.root / "ok.txt").exists()


def test_the_recorder_logs_a_tool_call_whose_arguments_hold_a_surrogate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    config = Mira()
    config.project_root = str(root)
    config.database = str(tmp_path / "log.duckdb")
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = f"scripted:{EXEC}"
    session = Session(config)
    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Write the notes"),
                    call("generate_code", path=SURROGATE_PATH, description="notes"),
                    "done",
                    "Could not write it.",
                ],
                EXEC: ["```markdown\n# notes\n```"],
            }
        )
    )
    from mira_jupyter.engine.engine import RunOptions

    with caplog.at_level(logging.WARNING):
        op = session.run("write the notes", RunOptions(mode="planned"))
        session.close()
    assert op is not None and op.status in ("completed", "failed")
    assert not any("failed on" in r.getMessage() for r in caplog.records), caplog.text
    con = duckdb.connect(str(tmp_path / "log.duckdb"), read_only=True)
    try:
        started = con.execute(
            "SELECT payload FROM operation_events WHERE operation_id = ? AND type = 'ToolCallStarted'",
            [op.id],
        ).fetchall()
        tools = con.execute(
            "SELECT tool, status, denial_reason FROM tool_calls WHERE operation_id = ?", [op.id]
        ).fetchall()
    finally:
        con.close()
    assert any("udcff" in str(p) for (p,) in started), started
    assert ("generate_code", "denied", "invalid_path") in tools, tools
    assert not os.path.exists(os.fsencode(root) + b"/notes\xff.md")


@pytest.mark.parametrize("where", ["name", "id"])
def test_a_tool_call_name_or_id_holding_a_surrogate_is_answered_and_the_run_goes_on(
    tmp_path: Path, where: str
) -> None:
    """r10c F3: the name was echoed into the next request, whose encoding then failed the
    operation as an internal error with a traceback."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "data.py").write_text("x = 1\n")
    config = Mira()
    config.project_root = str(root)
    config.database = str(tmp_path / "log.duckdb")
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = f"scripted:{EXEC}"
    session = Session(config)
    bad = {"tool_calls": [{"name": "get_file_summary\udcff", "arguments": {"paths": ["data.py"]}}]}
    if where == "id":
        bad = {"tool_calls": [{"id": "call_\udcff", "name": "get_file_summary", "arguments": {"paths": ["data.py"]}}]}
    script = mt.Script({ORCH: [plan_turn("Summarise"), bad, "Summarised.", "Summarised."], EXEC: ["x"] * 3})
    mt.use_script(script)
    from mira_jupyter.engine.engine import RunOptions

    op = session.run("summarise data.py", RunOptions(mode="planned"))
    session.close()
    assert op is not None and "internal error" not in (op.error or ""), op.error
    to_orchestrator = [r for r in script.requests if r.body.get("model") == ORCH]
    assert len(to_orchestrator) >= 3, "the request after the odd call was sent"
    echoed = json.dumps(to_orchestrator[2].body)
    assert "\\\\udcff" in echoed  # spelled as its escape, valid UTF-8 on the wire
