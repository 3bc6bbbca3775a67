"""Model-written globs that would backtrack for ever, and scans that must stop on cancel.

The pathological calls run in a child process with a generous wall-clock guard, so a
regression fails the test instead of hanging the suite (a backtracking match holds the
GIL: no signal or thread can stop it inside the test process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import World

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.tools.types import ToolContext

# the shape from the issue: 'b' + 60 'a' + 'cbaaaa…' against ten '*a' and a final 'b'
EVIL_NAME = "b" + "a" * 60 + "c" + "baaaa" * 30
EVIL_GLOB = "*a*a*a*a*a*a*a*a*a*a*b"
GUARD_SECONDS = 120  # a linear matcher needs milliseconds; backtracking needs centuries

_CHILD = textwrap.dedent(
    """
    import json, sys
    from mira_jupyter.tools.dispatch import dispatch
    from mira_jupyter.tools.registry import file_tools
    from mira_jupyter.tools.sandbox import Sandbox
    from mira_jupyter.tools.types import ToolContext

    root, glob = sys.argv[1], sys.argv[2]
    ctx = ToolContext(sandbox=Sandbox(root))
    tools = file_tools()
    out = {}
    for name, args in [
        ("list_files", {"pattern": glob, "recursive": True}),
        ("list_files", {"pattern": "**/" + glob}),
        ("grep_files", {"pattern": "x", "file_pattern": glob}),
        ("grep_files", {"pattern": "x", "file_pattern": "**/" + glob}),
    ]:
        r = dispatch(tools, name, args, ctx)
        out[name + " " + json.dumps(args)] = [r.status, r.content.get("files"), r.content.get("match_count")]
    print(json.dumps(out))
    """
)


def _run_child(root: Path, glob: str) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root), glob],
            capture_output=True,
            text=True,
            timeout=GUARD_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"a glob of {len(glob)} characters kept the tools busy for {GUARD_SECONDS}s")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backtracking_glob_returns_in_list_files_and_grep(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / EVIL_NAME).write_text("x\n")
    (root / "sub" / EVIL_NAME).write_text("x\n")
    (root / "b").write_text("x\n")  # a name the glob does match: 'b' alone has no 'a'
    (root / ("a" * 10 + "b")).write_text("x\n")
    results = _run_child(root, EVIL_GLOB)
    for call, (status, _files, _count) in results.items():
        assert status == "ok", call
    listed = results[f'list_files {json.dumps({"pattern": EVIL_GLOB, "recursive": True})}'][1]
    assert listed == ["a" * 10 + "b"]  # the evil name ends in "a"; "b" alone has no "a"
    grepped = results[f'grep_files {json.dumps({"pattern": "x", "file_pattern": EVIL_GLOB})}'][2]
    assert grepped == 1


@pytest.mark.parametrize(
    "glob",
    [
        "*" * 200 + "b",
        "**/" * 30 + "*a" * 20 + "b",
        "{*a,*a*a}" * 8 + "b",
        "[a]*" * 40 + "b",
    ],
)
def test_other_explosive_globs_return(tmp_path: Path, glob: str) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / EVIL_NAME).write_text("x\n")
    results = _run_child(root, glob)
    assert all(status in ("ok", "denied") for status, _f, _c in results.values())


def test_gitignore_line_of_the_same_shape_does_not_hang_a_listing(tmp_path: Path) -> None:
    # .gitignore files are project content (the agent can write them): pathspec must be linear
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".gitignore").write_text(EVIL_GLOB + "\n" + "**/" + EVIL_GLOB + "\n")
    (root / EVIL_NAME).write_text("x\n")
    results = _run_child(root, "*")
    assert all(status == "ok" for status, _f, _c in results.values())


class _CancelledOnceRunning(CancelToken):
    """Cancelled from the tool's first look on: the dispatcher's check before the call
    (which runs no tool for a stopped operation) sees it not yet cancelled."""

    looks = 0

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks > 1


def test_a_cancelled_listing_stops_and_says_so(world: World) -> None:
    for i in range(50):
        (world.root / f"f{i:03}.txt").write_text("x\n")
    ctx = ToolContext(sandbox=world.sandbox, cancel=_CancelledOnceRunning())
    listing = world.dispatch("list_files", {"recursive": True}, ctx)
    assert listing.status == "ok" and listing.content.get("cancelled") is True
    assert len(listing.content["files"]) < 50
