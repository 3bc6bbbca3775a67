"""FIFOs and other special files in the project: no tool blocks on one, or even opens one."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import World

from mira_jupyter.tools import grep

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs on Windows")


@pytest.fixture(params=["ripgrep", "re2"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    return request.param


class _Writer:
    """Opens a FIFO for writing; that open returns only once somebody opens the read end."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(0.3)  # let the writer reach its blocking open

    def _run(self) -> None:
        fd = os.open(self.fifo, os.O_WRONLY)  # blocks until a reader opens
        self.opened.set()
        os.close(fd)

    def release(self) -> None:
        """Unblock the writer (and anyone blocked reading) by opening the read end ourselves."""
        if not self.opened.is_set():
            fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            self.opened.wait(5)
            os.close(fd)
        self.thread.join(5)


@pytest.mark.parametrize(
    "where", ["sub/.gitignore", ".gitignore", "sub/.ignore", "sub/.rgignore", ".git/info/exclude"]
)
def test_a_fifo_named_like_an_ignore_file_does_not_stall_grep(
    world: World, engine: str, where: str
) -> None:
    (world.root / "sub").mkdir()
    (world.root / "sub" / "found.txt").write_text("NEEDLE here\n")
    (world.root / where).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(world.root / where)
    result = world.call("grep_files", pattern="NEEDLE")
    assert result.status == "ok", result
    assert [m["file"] for m in result.content["matches"]] == ["sub/found.txt"]
    assert not any("time limit" in w for w in result.content.get("warnings", []))


def test_a_fifo_named_gitignore_above_the_root_does_not_stall_grep(world: World, engine: str) -> None:
    # ripgrep reads the ignore files of every parent directory too
    os.mkfifo(world.base / ".gitignore")
    result = world.call("grep_files", pattern="hello")
    assert result.status == "ok", result
    assert [m["file"] for m in result.content["matches"]] == ["notes.txt"]
    assert not any("time limit" in w for w in result.content.get("warnings", []))


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": "pipe.txt"}),
        ("summarize_file", {"path": "pipe.txt"}),
        ("extract_symbols", {"path": "pipe.txt"}),
        ("count_lines", {"paths": ["pipe.txt"]}),
        ("grep_files", {"pattern": "x", "path": "pipe.txt"}),
        ("write_file", {"path": "pipe.txt", "content": "x"}),
    ],
)
def test_tools_never_open_a_fifo(world: World, tool: str, args: dict) -> None:
    fifo = world.root / "pipe.txt"
    os.mkfifo(fifo)
    writer = _Writer(fifo)
    try:
        result = world.call(tool, **args)
        text = result.to_model_text()
        assert result.status in ("denied", "ok"), result
        assert "regular file" in text or "not the expected kind" in text, text
        assert not writer.opened.wait(0.2), f"{tool} opened the FIFO's read end"
    finally:
        writer.release()
