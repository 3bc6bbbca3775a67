"""grep_files with both engines (ripgrep and the RE2 fallback) and the glob matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from mira_jupyter.tools import grep
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.globs import GlobError, compile_glob
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox
from mira_jupyter.tools.types import ToolContext, ToolResult


@pytest.fixture(params=["ripgrep", "re2"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    return request.param


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("import os\n\ndef load(path):\n    return open(path)\n")
    (tmp_path / "src" / "sub" / "b.py").write_text("def Load_all():\n    pass\n")
    (tmp_path / "src" / "notes.md").write_text("load the data\n")
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "debug.log").write_text("def load in a log\n")
    return tmp_path


def run(root: Path, limits: Limits | None = None, **args) -> ToolResult:
    ctx = ToolContext(sandbox=Sandbox(root, limits=limits))
    return dispatch(file_tools(), "grep_files", args, ctx)


def test_basic_search_reports_file_line_text(root: Path, engine: str) -> None:
    result = run(root, pattern=r"def \w+")
    assert result.content["engine"] == engine
    assert result.content["matches"] == [
        {"file": "src/a.py", "line": 3, "text": "def load(path):"},
        {"file": "src/sub/b.py", "line": 1, "text": "def Load_all():"},
    ]
    assert result.content["match_count"] == 2 and result.content["file_count"] == 2


def test_case_insensitive(root: Path, engine: str) -> None:
    sensitive = run(root, pattern="def load")
    insensitive = run(root, pattern="def load", case_insensitive=True)
    assert len(sensitive.content["matches"]) == 1
    assert len(insensitive.content["matches"]) == 2


def test_context_lines(root: Path, engine: str) -> None:
    result = run(root, pattern="def load", context_lines=1, path="src/a.py")
    (match,) = result.content["matches"]
    assert match["before"] == [""] and match["after"] == ["    return open(path)"]


def test_file_pattern_by_name_and_by_path(root: Path, engine: str) -> None:
    assert {
        m["file"] for m in run(root, pattern="load", file_pattern="*.md").content["matches"]
    } == {"src/notes.md"}
    by_path = run(root, pattern="(?i)load", path="src", file_pattern="sub/*.py")
    assert [m["file"] for m in by_path.content["matches"]] == ["src/sub/b.py"]


def test_gitignored_files_are_skipped_unless_asked(root: Path, engine: str) -> None:
    assert "debug.log" not in {m["file"] for m in run(root, pattern="load").content["matches"]}
    assert "debug.log" in {
        m["file"] for m in run(root, pattern="load", include_ignored=True).content["matches"]
    }


def test_invalid_regex_is_an_invalid_argument(root: Path, engine: str) -> None:
    result = run(root, pattern="def (")
    assert result.denial_reason == "invalid_arguments"


def test_match_cap_and_exact_remainder(root: Path, engine: str) -> None:
    (root / "many.txt").write_text("hit\n" * 30)
    result = run(root, limits=Limits(max_matches=10), pattern="hit")
    assert len(result.content["matches"]) == 10 and result.truncated
    assert result.content["match_count"] == 30
    assert "20 more" in result.content["notice"]


def test_long_matching_lines_are_cut(root: Path, engine: str) -> None:
    (root / "min.js").write_text("x" * 5000 + "needle" + "y" * 5000 + "\n")
    (text,) = [m["text"] for m in run(root, pattern="needle").content["matches"]]
    assert len(text) < 2100 and "chars]" in text


def test_binary_files_are_not_searched(root: Path, engine: str) -> None:
    (root / "blob.bin").write_bytes(b"needle\x00\x01\x02")
    assert run(root, pattern="needle").content["matches"] == []


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a/b/c.py", True),
        ("*.py", "c.pyc", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("**/test_*.py", "tests/unit/test_x.py", True),
        ("*.{ts,tsx}", "app/view.tsx", True),
        ("file[0-9].txt", "file7.txt", True),
        ("file[!0-9].txt", "file7.txt", False),
        ("?.md", "a.md", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert compile_glob(pattern).matches(path) is expected


@pytest.mark.parametrize("pattern", ["../x", "a/../../b", "{..,a}/*", "/abs/*", "~/x", "C:/x", ""])
def test_glob_validation_refuses_escapes(pattern: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(pattern)
