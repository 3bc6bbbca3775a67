"""Check-then-use races (bug-ops/mcp-execution#496), simulated deterministically.

Each test lets the sandbox run its check, then swaps the filesystem under it (via a wrapper
around the checking method or a hook that runs between check and write) and proves the
operation that follows does not escape.
"""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import SECRET, World, assert_denied, assert_no_leak

from mira_jupyter.tools import atomic
from mira_jupyter.tools import sandbox as sandbox_mod
from mira_jupyter.tools.types import FileWrite, ToolContext


def _after(world: World, method: str, action) -> None:
    """Run `action` right after the sandbox's `method` returns (the check)."""
    original = getattr(world.sandbox, method)

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        action()
        return result

    setattr(world.sandbox, method, wrapped)


def _swap_dir_for_link(path, target) -> None:
    shutil.rmtree(path)
    os.symlink(target, path)


def test_parent_dir_swapped_for_link_between_check_and_write(world: World) -> None:
    (world.root / "sub").mkdir()
    before = world.snapshot()
    _after(
        world,
        "check_writable",
        lambda: _swap_dir_for_link(world.root / "sub", world.outside / "dir"),
    )
    result = world.call("write_file", path="sub/inner.txt", content="pwned")
    assert_denied(result, "symlink_escape")
    assert world.snapshot() == before
    assert world.writes == []


def test_grandparent_swapped_for_link_between_check_and_write(world: World) -> None:
    (world.root / "a" / "b").mkdir(parents=True)
    before = world.snapshot()
    _after(world, "check_writable", lambda: _swap_dir_for_link(world.root / "a", world.outside))
    assert_denied(world.call("write_file", path="a/b/new.txt", content="pwned"), "symlink_escape")
    assert world.snapshot() == before


def test_missing_parent_created_as_link_between_check_and_write(world: World) -> None:
    # the path did not exist at check time; an attacker creates it as a link before mkdir
    before = world.snapshot()
    _after(world, "check_writable", lambda: os.symlink(world.outside / "dir", world.root / "fresh"))
    assert_denied(world.call("write_file", path="fresh/x.txt", content="pwned"), "symlink_escape")
    assert world.snapshot() == before


def test_destination_file_swapped_for_link_between_check_and_write(world: World) -> None:
    before = world.snapshot()

    def swap() -> None:
        os.unlink(world.root / "notes.txt")
        os.symlink(world.outside / "secret.txt", world.root / "notes.txt")

    _after(world, "check_writable", swap)
    result = world.call("write_file", path="notes.txt", content="pwned")
    assert_denied(result, "symlink_escape")
    assert world.snapshot() == before
    # the undo log never saw the outside file's bytes
    assert all(SECRET.encode() not in (w.previous or b"") for w in world.writes)


def test_file_swapped_for_link_between_check_and_read(world: World) -> None:
    def swap() -> None:
        os.unlink(world.root / "notes.txt")
        os.symlink(world.outside / "secret.txt", world.root / "notes.txt")

    _after(world, "check_visible", swap)
    assert_denied(world.call("read_file", path="notes.txt"), "symlink_escape")


def test_directory_swapped_for_link_between_check_and_read(world: World) -> None:
    _after(
        world,
        "check_visible",
        lambda: _swap_dir_for_link(world.root / "src", world.outside / "dir"),
    )
    result = world.call("read_file", path="src/inner.txt")
    assert result.status == "denied"
    assert_no_leak(result)


def test_directory_swapped_during_recursive_listing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mira_jupyter.tools import walk

    (world.outside / "dir" / "pkg").mkdir()
    (world.outside / "dir" / "pkg" / "stolen.py").write_text(SECRET)
    original = walk.Walker._scan
    swapped = []

    def scan_then_swap(self, handle, rel_dir):
        entries = original(self, handle, rel_dir)
        if rel_dir == "src" and not swapped:
            swapped.append(True)
            _swap_dir_for_link(world.root / "src" / "pkg", world.outside / "dir" / "pkg")
        return entries

    monkeypatch.setattr(walk.Walker, "_scan", scan_then_swap)
    result = world.call("list_files", recursive=True)
    assert swapped and result.status == "ok"
    assert not any("stolen" in f for f in result.content["files"])


def test_directory_moved_out_of_root_before_replace(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (world.root / "sub").mkdir()
    (world.root / "sub" / "f.txt").write_text("original\n")
    moved = world.outside / "moved"
    real_write_temp = atomic._write_temp

    def write_then_move(*args, **kwargs):  # noqa: ANN002, ANN003
        real_write_temp(*args, **kwargs)
        os.rename(world.root / "sub", moved)

    monkeypatch.setattr(atomic, "_write_temp", write_then_move)
    result = world.call("write_file", path="sub/f.txt", content="pwned")
    assert_denied(result, "symlink_escape")
    assert (moved / "f.txt").read_text() == "original\n"
    assert sorted(os.listdir(moved)) == ["f.txt"]  # no temp file left behind
    assert world.writes == []  # nothing happened, so nothing was logged


def test_directory_moved_out_right_after_replace_is_rolled_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (world.root / "sub").mkdir()
    (world.root / "sub" / "f.txt").write_text("original\n")
    moved = world.outside / "moved"
    real_replace = os.replace

    def replace_then_move(src, dst, **kwargs):
        real_replace(src, dst, **kwargs)
        monkeypatch.setattr(sandbox_mod.os, "replace", real_replace)
        os.rename(world.root / "sub", moved)

    monkeypatch.setattr(sandbox_mod.os, "replace", replace_then_move)
    assert_denied(world.call("write_file", path="sub/f.txt", content="pwned"), "symlink_escape")
    assert (moved / "f.txt").read_text() == "original\n"
    assert sorted(os.listdir(moved)) == ["f.txt"]


def test_root_replaced_by_link_to_outside(world: World) -> None:
    stash = world.base / "stash"
    os.rename(world.root, stash)
    os.symlink(world.outside, world.root)
    for result in (
        world.call("read_file", path="secret.txt"),
        world.call("write_file", path="secret.txt", content="pwned"),
        world.call("list_files"),
    ):
        assert result.status == "denied"
        assert_no_leak(result)
    assert (world.outside / "secret.txt").read_text() == f"{SECRET}\n"


def test_on_write_failure_means_nothing_is_written(world: World) -> None:
    def broken(_write: FileWrite) -> None:
        raise RuntimeError("undo log unavailable")

    ctx = ToolContext(sandbox=world.sandbox, on_write=broken)
    result = world.dispatch("write_file", {"path": "notes.txt", "content": "changed"}, ctx)
    assert result.status == "error"
    assert (world.root / "notes.txt").read_text() == "hello\nworld\n"
    assert [p for p in os.listdir(world.root) if ".mira-" in p] == []
