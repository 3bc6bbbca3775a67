"""The smaller findings of the hostile review of the hardening round, one test each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import World, assert_denied

from mira_jupyter.tools import grep
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox
from mira_jupyter.tools.types import ToolContext

MIB = 1 << 20


def _engine(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")


# -- a link to a FIFO is named as the model spelled it ----------------------------------


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": "feed.txt"}),
        ("summarize_file", {"path": "feed.txt"}),
        ("count_lines", {"paths": ["feed.txt"]}),
        ("grep_files", {"pattern": "x", "path": "feed.txt"}),
    ],
)
def test_a_link_to_a_fifo_is_reported_under_the_link_name(world: World, tool: str, args: dict) -> None:
    os.mkfifo(world.root / "pipe")
    os.symlink("pipe", world.root / "feed.txt")
    text = world.call(tool, **args).to_model_text()
    assert "'feed.txt' (a link to 'pipe')" in text, text


# -- a binary file given to grep by name ------------------------------------------------


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_grep_on_a_binary_file_named_directly_says_it_was_not_searched(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    (world.root / "blob.dat").write_bytes(b"needle here\n\x00\x00needle there\n")
    result = world.call("grep_files", pattern="needle", path="blob.dat")
    assert_denied(result, "binary")
    assert "'blob.dat' is a binary file" in result.content["error"]


# -- line counts of a big sparse file agree between count_lines and summarize_file ------


def test_line_estimates_of_a_sparse_file_agree_and_are_right(tmp_path: Path) -> None:
    # 2,000 short lines, then a 63 MiB hole: the head is exact, the hole holds no newline.
    # A scan cut short (time limit 0: one 1 MiB chunk) used to extrapolate the head's
    # density to the whole file, 64x too many, and differently in each tool
    path = tmp_path / "sparse.log"
    with path.open("wb") as f:
        f.write(b"".join(b"line %05d\n" % i for i in range(2000)))
        f.truncate(64 * MIB)
    ctx = ToolContext(sandbox=Sandbox(tmp_path, limits=Limits(scan_seconds=0)))
    tools = file_tools()
    counted = dispatch(tools, "count_lines", {"paths": ["sparse.log"]}, ctx)
    summary = dispatch(tools, "summarize_file", {"path": "sparse.log"}, ctx)
    (entry,) = counted.content["files"]
    assert "lines" in entry["estimated"]
    assert summary.content["estimated"] == ["lines"]
    # 2,000 terminated lines and the unterminated hole after them
    assert entry["lines"] == summary.content["lines"] == 2001


# -- moved-aside copies of a corrupt log ------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "logs/mira.duckdb.corrupt-20261201T090000.000000Z",
        "logs/mira.duckdb.corrupt-20261201T090000.000000Z.wal",
        "logs/MIRA.duckdb.corrupt-x",
    ],
)
def test_moved_aside_copies_of_a_log_outside_mira_are_protected(tmp_path: Path, name: str) -> None:
    (tmp_path / "logs").mkdir()
    db = tmp_path / "logs" / "mira.duckdb"
    sandbox = Sandbox(tmp_path, protected=[db])
    result = dispatch(
        file_tools(), "write_file", {"path": name, "content": "x"}, ToolContext(sandbox=sandbox)
    )
    assert_denied(result, "protected_path")
    assert not (tmp_path / name).exists()


def test_the_aside_mark_matches_the_store(tmp_path: Path) -> None:
    from mira_jupyter.store import faults
    from mira_jupyter.tools import policy

    assert faults.CORRUPT_SUFFIX == policy.DB_ASIDE_MARK
    aside = faults.aside_name(tmp_path / "logs" / "mira.duckdb")
    sandbox = Sandbox(tmp_path, protected=[tmp_path / "logs" / "mira.duckdb"])
    assert sandbox.is_protected(aside.relative_to(tmp_path).as_posix())
    assert not sandbox.is_protected("logs/mira.duckdb-notes.txt")
