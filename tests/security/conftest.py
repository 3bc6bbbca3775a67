"""A project root with hostile neighbours: a prefix sibling, outside files, planted links."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox
from mira_jupyter.tools.types import FileWrite, Tool, ToolContext, ToolResult

SECRET = "TOP-SECRET-7f3a"  # text that must never appear in any tool result


@dataclass
class World:
    """The sandbox under attack, its surroundings, and a way to call tools."""

    base: Path
    root: Path
    evil: Path  # proj_evil: shares the root's name as a prefix
    outside: Path
    sandbox: Sandbox
    tools: dict[str, Tool]
    writes: list[FileWrite]

    def ctx(self) -> ToolContext:
        """A context whose undo log is `writes`."""
        return ToolContext(sandbox=self.sandbox, on_write=self.writes.append)

    def call(self, tool: str, **args: Any) -> ToolResult:
        """Call a tool the way the model would."""
        return self.dispatch(tool, args, self.ctx())

    def dispatch(
        self, tool: str, arguments: Any, ctx: ToolContext, allowed: set[str] | None = None
    ) -> ToolResult:
        """One call through the one dispatch path the engine runs (tools.dispatch)."""
        return dispatch(self.tools, tool, arguments, ctx, allowed)

    def snapshot(self) -> dict[str, str]:
        """Hash of every file outside the root, to prove nothing there changed."""
        out = {}
        for top in (self.evil, self.outside):
            for dirpath, _dirs, files in os.walk(top):
                for name in files:
                    p = os.path.join(dirpath, name)
                    out[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
            out[str(top)] = ",".join(sorted(os.listdir(top)))
        return out


def assert_denied(result: ToolResult, *reasons: str) -> None:
    """The call was refused with one of `reasons` and leaked nothing."""
    assert result.status == "denied", result
    assert result.denial_reason in reasons, result
    assert_no_leak(result)


def assert_no_leak(result: ToolResult) -> None:
    """No secret outside text is in what the model would see."""
    text = result.to_model_text()
    assert SECRET not in text
    assert "root:x:0" not in text


@pytest.fixture
def world(tmp_path: Path) -> World:
    base = tmp_path
    root = base / "proj"
    evil = base / "proj_evil"
    outside = base / "outside"
    for d in (
        root / "src" / "pkg",
        root / ".git" / "hooks",
        root / ".mira",
        root / "skills",
        evil,
        outside / "dir",
    ):
        d.mkdir(parents=True)
    (evil / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "secret.py").write_text(f"def leaked():\n    return '{SECRET}'\n")
    (outside / "dir" / "inner.txt").write_text(f"{SECRET} inner\n")
    (root / "notes.txt").write_text("hello\nworld\n")
    (root / "src" / "app.py").write_text("import os\n\n\ndef main():\n    return os.getcwd()\n")
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".mira" / "settings.toml").write_text("x = 1\n")
    (root / "skills" / "debugging.md").write_text("---\nname: debugging\n---\n")
    (root / "mira.duckdb").write_bytes(b"DUCK\x00DB")
    (root / ".env").write_text(f"API_KEY={SECRET}\n")
    (root / ".env.example").write_text("API_KEY=changeme\n")
    limits = Limits(
        max_write_bytes=64 * 1024,
        max_read_bytes=16 * 1024,
        max_lines=200,
        max_parse_bytes=256 * 1024,
        grep_timeout=10,
    )
    sandbox = Sandbox(root, protected=["mira.duckdb", "skills"], limits=limits)
    return World(base, root, evil, outside, sandbox, file_tools(), [])
