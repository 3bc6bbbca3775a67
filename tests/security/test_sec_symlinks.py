"""Links planted inside the root that point out of it (CVE-2025-53109 and relatives)."""

from __future__ import annotations

import os

import pytest
from conftest import SECRET, World, assert_denied, assert_no_leak

from mira_jupyter.tools import grep


@pytest.fixture
def linked(world: World) -> World:
    os.symlink(world.outside / "secret.txt", world.root / "file_link.txt")
    os.symlink(world.outside / "secret.py", world.root / "code_link.py")
    os.symlink(world.outside / "dir", world.root / "dir_link")
    os.symlink(world.evil, world.root / "evil_link")
    os.symlink("/etc/passwd", world.root / "passwd")
    return world


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": "file_link.txt"}),
        ("read_file", {"path": "dir_link/inner.txt"}),
        ("read_file", {"path": "passwd"}),
        ("summarize_file", {"path": "code_link.py"}),
        ("extract_symbols", {"path": "code_link.py"}),
        ("list_files", {"directory": "dir_link"}),
        ("list_files", {"directory": "evil_link", "recursive": True}),
        ("grep_files", {"pattern": "SECRET", "path": "file_link.txt"}),
        ("grep_files", {"pattern": "SECRET", "path": "dir_link"}),
    ],
)
def test_link_to_outside_is_refused(linked: World, tool: str, args: dict) -> None:
    assert_denied(linked.call(tool, **args), "symlink_escape")


def test_count_lines_refuses_link_per_path(linked: World) -> None:
    result = linked.call("count_lines", paths=["file_link.txt", "dir_link/inner.txt", "notes.txt"])
    assert [f.get("reason") for f in result.content["files"]] == [
        "symlink_escape",
        "symlink_escape",
        None,
    ]
    assert_no_leak(result)


@pytest.mark.parametrize(
    "path", ["file_link.txt", "dir_link/inner.txt", "dir_link/new.txt", "evil_link/secret.txt"]
)
def test_write_through_link_is_refused_and_outside_unchanged(linked: World, path: str) -> None:
    before = linked.snapshot()
    assert_denied(linked.call("write_file", path=path, content="pwned"), "symlink_escape")
    assert linked.snapshot() == before
    assert linked.writes == []


def test_symlinked_ancestor_of_a_file_not_yet_created(linked: World) -> None:
    # DollhouseMCP#2342 / DesktopCommander#420: the parent chain does not exist yet
    before = linked.snapshot()
    result = linked.call("write_file", path="dir_link/a/b/c/new.txt", content="pwned")
    assert_denied(result, "symlink_escape")
    assert linked.snapshot() == before
    assert not (linked.outside / "dir" / "a").exists()


def test_dangling_link_planted_at_destination(world: World) -> None:
    target = world.outside / "created_by_attack.txt"
    os.symlink(target, world.root / "planted.txt")
    assert_denied(world.call("write_file", path="planted.txt", content="pwned"), "symlink_escape")
    assert not target.exists()


def test_symlink_chain_ending_outside(world: World) -> None:
    os.symlink(world.outside / "secret.txt", world.root / "c")
    os.symlink("c", world.root / "b")
    os.symlink("b", world.root / "a")
    assert_denied(world.call("read_file", path="a"), "symlink_escape")
    before = world.snapshot()
    assert_denied(world.call("write_file", path="a", content="pwned"), "symlink_escape")
    assert world.snapshot() == before


def test_relative_link_climbing_out(world: World) -> None:
    os.symlink("../../outside/secret.txt", world.root / "src" / "up.txt")
    assert_denied(world.call("read_file", path="src/up.txt"), "symlink_escape")


def test_link_loop_is_refused_not_hung(world: World) -> None:
    os.symlink("loop2", world.root / "loop1")
    os.symlink("loop1", world.root / "loop2")
    result = world.call("read_file", path="loop1")
    assert result.status == "denied"
    assert world.call("list_files", recursive=True).status == "ok"


def test_directory_link_to_root_itself_does_not_loop(world: World) -> None:
    os.symlink(".", world.root / "self")
    os.symlink(world.root, world.root / "src" / "back")
    result = world.call("list_files", recursive=True)
    assert result.status == "ok"
    assert not any(f.startswith(("self/", "src/back/")) for f in result.content["files"])


def test_link_inside_root_is_allowed(world: World) -> None:
    # the paired allowed case: a link that stays inside works for read and write
    os.symlink("notes.txt", world.root / "alias.txt")
    assert world.call("read_file", path="alias.txt").content["content"] == "hello\nworld\n"
    assert world.call("write_file", path="alias.txt", content="new\n").status == "ok"
    assert (world.root / "notes.txt").read_text() == "new\n"
    assert os.path.islink(world.root / "alias.txt")


def test_listing_hides_outside_links_and_never_descends_into_them(linked: World) -> None:
    result = linked.call("list_files", recursive=True)
    files = result.content["files"]
    assert not any(f.startswith(("dir_link", "evil_link")) for f in files)
    assert "file_link.txt" not in files and "passwd" not in files
    assert result.content["skipped"]["links_skipped"] >= 5
    assert_no_leak(result)


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_grep_does_not_follow_links_out(
    linked: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    result = linked.call("grep_files", pattern=SECRET[:10])
    assert result.status == "ok"
    assert result.content["matches"] == []
    assert_no_leak(result)


def test_link_to_dev_zero_is_refused(world: World) -> None:
    os.symlink("/dev/zero", world.root / "zero")
    assert_denied(world.call("read_file", path="zero"), "symlink_escape")
    assert (
        world.call("count_lines", paths=["zero"]).content["files"][0]["reason"] == "symlink_escape"
    )


def test_inside_link_to_git_dir_cannot_be_used_to_write_it(world: World) -> None:
    os.symlink(".git", world.root / "gitlink")
    assert_denied(
        world.call("write_file", path="gitlink/config", content="pwned"), "protected_path"
    )
    assert_denied(
        world.call("write_file", path="gitlink/hooks/pre-commit", content="#!/bin/sh\n"),
        "protected_path",
    )
    assert (world.root / ".git" / "config").read_text() == "[core]\n"
    assert not (world.root / ".git" / "hooks" / "pre-commit").exists()
