"""Normal behaviour of the sandbox and of read_file, write_file, list_files, count_lines."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox, SandboxDenied
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "src" / "main.py").write_text("print('hi')\n")
    (tmp_path / "README.md").write_text("# Title\n")
    return tmp_path


def call(
    root: Path, tool: str, limits: Limits | None = None, writes: list | None = None, **args
) -> ToolResult:
    sandbox = Sandbox(root, limits=limits)
    ctx = ToolContext(sandbox=sandbox, on_write=None if writes is None else writes.append)
    return dispatch(file_tools(), tool, args, ctx)


# -- sandbox ------------------------------------------------------------------------------


def test_resolve_gives_posix_relative_paths(root: Path) -> None:
    sb = Sandbox(root)
    assert sb.resolve("src/./pkg/../main.py").rel == "src/main.py"
    assert sb.resolve(str(root)).rel == "."
    missing = sb.resolve("new/dir/file.txt", must_exist=False)
    assert missing.rel == "new/dir/file.txt" and not missing.exists
    with pytest.raises(SandboxDenied) as info:
        sb.resolve("nope.txt")
    assert info.value.reason == "not_found"


def test_sandbox_root_must_be_a_directory(root: Path) -> None:
    with pytest.raises(ValueError):
        Sandbox(root / "README.md")


def test_write_bytes_reports_previous_content_once_replaced(root: Path) -> None:
    sb = Sandbox(root)
    seen: list[tuple[FileWrite, bytes]] = []

    def on_write(write: FileWrite) -> None:
        # logged only after the rename: a kernel killed mid-write logs no change
        seen.append((write, (root / "README.md").read_bytes()))

    outcome = sb.write_bytes("README.md", b"# New\n", on_write)
    write, on_disk = seen[0]
    assert write.path == "README.md" and write.previous == b"# Title\n" and on_disk == b"# New\n"
    assert write.new_sha256 == outcome.sha256 and not outcome.created
    assert (root / "README.md").read_bytes() == b"# New\n"


def test_a_write_whose_logging_fails_is_taken_back(root: Path) -> None:
    sb = Sandbox(root)

    def on_write(write: FileWrite) -> None:
        raise OSError("the undo log is unavailable")

    with pytest.raises(OSError):
        sb.write_bytes("README.md", b"# New\n", on_write)
    with pytest.raises(OSError):
        sb.write_bytes("new.md", b"# New\n", on_write)
    assert (root / "README.md").read_bytes() == b"# Title\n"
    assert not (root / "new.md").exists()
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_write_preserves_the_file_mode(root: Path) -> None:
    script = root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    Sandbox(root).write_bytes("run.sh", b"#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_write_cap_can_be_raised_for_undo(root: Path) -> None:
    sb = Sandbox(root, limits=Limits(max_write_bytes=10))
    with pytest.raises(SandboxDenied):
        sb.write_bytes("a.txt", b"x" * 11)
    assert sb.write_bytes("a.txt", b"x" * 11, max_bytes=100).bytes_written == 11


def test_remove_file_returns_its_bytes(root: Path) -> None:
    sb = Sandbox(root)
    assert sb.remove_file("src/main.py") == b"print('hi')\n"
    assert not (root / "src" / "main.py").exists()
    with pytest.raises(SandboxDenied):
        sb.remove_file(".git/config")


# -- read_file ----------------------------------------------------------------------------


def test_read_whole_file(root: Path) -> None:
    result = call(root, "read_file", path="src/main.py")
    assert result.content == {
        "path": "src/main.py",
        "content": "print('hi')\n",
        "start_line": 1,
        "end_line": 1,
        "total_lines": 1,
    }
    assert not result.truncated


def test_read_line_range(root: Path) -> None:
    (root / "n.txt").write_text("".join(f"{i}\n" for i in range(1, 101)))
    result = call(root, "read_file", path="n.txt", start_line=10, end_line=12)
    assert result.content["content"] == "10\n11\n12\n"
    assert (
        result.content["start_line"],
        result.content["end_line"],
        result.content["total_lines"],
    ) == (10, 12, 100)
    assert not result.truncated


def test_read_caps_lines_and_says_where_to_continue(root: Path) -> None:
    (root / "n.txt").write_text("".join(f"{i}\n" for i in range(1, 101)))
    result = call(root, "read_file", limits=Limits(max_lines=30), path="n.txt", start_line=5)
    assert result.truncated and result.content["end_line"] == 34
    assert (
        "lines 35-100" in result.content["notice"] and "start_line=35" in result.content["notice"]
    )


def test_read_caps_bytes(root: Path) -> None:
    (root / "w.txt").write_text("0123456789\n" * 100)
    result = call(root, "read_file", limits=Limits(max_read_bytes=55), path="w.txt")
    assert result.content["content"] == "0123456789\n" * 5
    assert "bytes not shown" in result.content["notice"]


def test_read_without_trailing_newline_and_past_end(root: Path) -> None:
    (root / "t.txt").write_text("a\nb")
    assert call(root, "read_file", path="t.txt").content["total_lines"] == 2
    past = call(root, "read_file", path="t.txt", start_line=9)
    assert past.content["content"] == "" and "past the end" in past.content["notice"]


def test_read_flags_lossy_decoding(root: Path) -> None:
    (root / "latin.txt").write_bytes(b"caf\xe9\n")
    result = call(root, "read_file", path="latin.txt")
    assert result.content["lossy_decode"] is True and result.content["content"] == "caf\ufffd\n"


def test_end_before_start_is_invalid(root: Path) -> None:
    assert (
        call(root, "read_file", path="README.md", start_line=5, end_line=2).denial_reason
        == "invalid_arguments"
    )


# -- write_file ---------------------------------------------------------------------------


def test_write_creates_parents_and_reports(root: Path) -> None:
    writes: list[FileWrite] = []
    result = call(root, "write_file", writes=writes, path="new/deep/f.py", content="a\nb")
    assert result.content["created"] is True and result.content["lines_written"] == 2
    assert (root / "new" / "deep" / "f.py").read_text() == "a\nb"
    assert writes[0].previous is None and writes[0].path == "new/deep/f.py"


def test_write_leaves_no_temp_files(root: Path) -> None:
    call(root, "write_file", path="src/main.py", content="print('bye')\n")
    assert sorted(os.listdir(root / "src")) == ["main.py", "pkg"]


# -- list_files ---------------------------------------------------------------------------


def test_list_top_level_separates_directories(root: Path) -> None:
    result = call(root, "list_files")
    assert result.content["files"] == ["README.md"]
    assert result.content["directories"] == ["src/"]


def test_list_recursive_and_patterns(root: Path) -> None:
    assert call(root, "list_files", recursive=True).content["files"] == [
        "README.md",
        "src/main.py",
        "src/pkg/mod.py",
    ]
    assert call(root, "list_files", pattern="*.py", recursive=True).content["files"] == [
        "src/main.py",
        "src/pkg/mod.py",
    ]
    # a pattern with '/' is relative to the listed directory and implies recursion
    assert call(root, "list_files", directory="src", pattern="pkg/*.py").content["files"] == [
        "src/pkg/mod.py"
    ]
    assert call(root, "list_files", pattern="**/*.{py,md}").content["count"] == 3


def test_gitignore_root_nested_negation_and_anchors(root: Path) -> None:
    (root / ".gitignore").write_text("*.log\nbuild/\n/top.txt\n!keep.log\n")
    (root / "src" / ".gitignore").write_text("generated_*.py\n")
    for rel in [
        "a.log",
        "keep.log",
        "build/out.js",
        "top.txt",
        "src/top.txt",
        "src/generated_x.py",
        "src/build/x",
    ]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n")
    files = call(root, "list_files", recursive=True).content["files"]
    assert "keep.log" in files and "src/top.txt" in files
    for hidden in ["a.log", "build/out.js", "top.txt", "src/generated_x.py", "src/build/x"]:
        assert hidden not in files
    everything = call(root, "list_files", recursive=True, include_ignored=True).content["files"]
    assert "a.log" in everything and "src/generated_x.py" in everything


def test_git_info_exclude_and_noise_dirs(root: Path) -> None:
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("secret_notes.md\n")
    (root / "secret_notes.md").write_text("x")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("x")
    result = call(root, "list_files", recursive=True)
    assert "secret_notes.md" not in result.content["files"]
    assert not any(f.startswith(("node_modules", ".git/")) for f in result.content["files"])
    assert result.content["skipped"]["ignored"] >= 2


def test_listing_a_subdirectory_applies_parent_gitignore(root: Path) -> None:
    (root / ".gitignore").write_text("*.tmp\n")
    (root / "src" / "x.tmp").write_text("x")
    assert call(root, "list_files", directory="src").content["files"] == ["src/main.py"]


def test_list_a_file_is_refused(root: Path) -> None:
    assert call(root, "list_files", directory="README.md").denial_reason == "invalid_path"


# -- count_lines --------------------------------------------------------------------------


def test_count_lines_batch_with_errors(root: Path) -> None:
    (root / "c.txt").write_text("one two\nthree\n  four  ")
    result = call(root, "count_lines", paths=["c.txt", "missing.txt", "src/main.py"])
    first, missing, third = result.content["files"]
    assert first == {"path": "c.txt", "lines": 3, "words": 4, "chars": 22, "bytes": 22}
    assert missing["reason"] == "not_found"
    assert third["lines"] == 1
    assert result.content["total_lines"] == 4 and result.content["errors"] == 1


def test_count_words_across_chunk_boundaries(root: Path) -> None:
    text = ("word " * 300_000).strip()  # > 1 MiB, so words straddle read chunks
    (root / "big.txt").write_text(text)
    assert call(root, "count_lines", paths=["big.txt"]).content["files"][0]["words"] == 300_000


def test_count_chars_is_unicode_aware(root: Path) -> None:
    (root / "u.txt").write_text("héllo wörld\n")
    info = call(root, "count_lines", paths=["u.txt"]).content["files"][0]
    assert info["chars"] == 12 and info["bytes"] == 14


def test_mira_control_directory_is_neither_listed_nor_grepped(root: Path) -> None:
    (root / ".mira" / "skills").mkdir(parents=True)
    (root / ".mira" / "mira.duckdb").write_bytes(b"log")
    (root / ".mira" / "skills" / "x.md").write_text("needle\n")
    (root / "notes.txt").write_text("needle\n")
    listed = call(root, "list_files", recursive=True).content["files"]
    assert not any(path.startswith(".mira") for path in listed)
    hits = call(root, "grep_files", pattern="needle").content["matches"]
    assert [hit["file"] for hit in hits] == ["notes.txt"]
