"""Path arguments an attacker would write: traversal, absolute paths, ~, NUL, prefix siblings."""

from __future__ import annotations

import pytest
from conftest import SECRET, World, assert_denied, assert_no_leak

# (tool, argument name) for every tool that takes a single path
PATH_TOOLS = [
    ("read_file", "path"),
    ("summarize_file", "path"),
    ("extract_symbols", "path"),
    ("list_files", "directory"),
    ("grep_files", "path"),
]


def _extra(tool: str) -> dict[str, str]:
    return {"pattern": "SECRET"} if tool == "grep_files" else {}


@pytest.mark.parametrize(("tool", "arg"), PATH_TOOLS)
@pytest.mark.parametrize(
    "path",
    [
        "../proj_evil/secret.txt",
        "../../../../../../../../etc/passwd",
        "src/../../proj_evil/secret.txt",
        "src/pkg/../../../outside/secret.txt",
        "./../outside",
    ],
)
def test_dotdot_traversal_is_outside_root(world: World, tool: str, arg: str, path: str) -> None:
    assert_denied(world.call(tool, **{arg: path}, **_extra(tool)), "outside_root")


@pytest.mark.parametrize(("tool", "arg"), PATH_TOOLS)
def test_absolute_path_outside_root(world: World, tool: str, arg: str) -> None:
    assert_denied(world.call(tool, **{arg: "/etc/passwd"}, **_extra(tool)), "outside_root")


@pytest.mark.parametrize(("tool", "arg"), PATH_TOOLS)
def test_prefix_sibling_by_absolute_path(world: World, tool: str, arg: str) -> None:
    # CVE-2025-53110: '/x/proj_evil' passes a string-prefix test against '/x/proj'
    target = str(world.evil / "secret.txt") if arg == "path" else str(world.evil)
    assert_denied(world.call(tool, **{arg: target}, **_extra(tool)), "outside_root")


def test_root_own_absolute_path_is_allowed(world: World) -> None:
    result = world.call("read_file", path=str(world.root / "notes.txt"))
    assert result.status == "ok" and result.content["content"] == "hello\nworld\n"
    listing = world.call("list_files", directory=str(world.root))
    assert listing.status == "ok" and "notes.txt" in listing.content["files"]


def test_absolute_path_spelled_through_dotdot_back_inside_is_allowed(world: World) -> None:
    # resolution, not spelling, decides: proj/../proj/notes.txt is inside
    result = world.call("read_file", path=str(world.root / ".." / "proj" / "notes.txt"))
    assert result.status == "ok"


@pytest.mark.parametrize("path", ["~", "~/.ssh/id_rsa", "~root/.bashrc", "~/../../etc/passwd"])
def test_tilde_is_never_expanded(world: World, path: str) -> None:
    assert_denied(world.call("read_file", path=path), "invalid_path")
    assert_denied(world.call("write_file", path=path, content="x"), "invalid_path")


@pytest.mark.parametrize("path", ["notes.txt\x00.png", "\x00", "../\x00/etc/passwd"])
def test_nul_bytes_are_rejected(world: World, path: str) -> None:
    assert_denied(world.call("read_file", path=path), "invalid_path")
    assert_denied(world.call("write_file", path=path, content="x"), "invalid_path")


@pytest.mark.parametrize("path", ["", "   "])
def test_empty_paths_are_rejected(world: World, path: str) -> None:
    assert_denied(world.call("read_file", path=path), "invalid_path")
    assert_denied(world.call("write_file", path=path, content="x"), "invalid_path")


@pytest.mark.parametrize(
    "path",
    [
        "../proj_evil/pwned.txt",
        "/tmp/../etc/cron.d/pwned",
        "src/../../outside/pwned.txt",
    ],
)
def test_writes_outside_root_are_refused(world: World, path: str) -> None:
    before = world.snapshot()
    assert_denied(world.call("write_file", path=path, content="pwned"), "outside_root")
    assert world.snapshot() == before
    assert world.writes == []


def test_write_to_prefix_sibling_by_absolute_path(world: World) -> None:
    before = world.snapshot()
    target = str(world.evil / "secret.txt")
    assert_denied(world.call("write_file", path=target, content="pwned"), "outside_root")
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "path",
    ["..\\proj_evil\\secret.txt", "%2e%2e/proj_evil/secret.txt", "....//proj_evil/secret.txt"],
)
def test_encoded_or_windows_traversal_is_just_a_missing_name(world: World, path: str) -> None:
    # on POSIX these are ordinary (missing) names inside the root, never a way out
    result = world.call("read_file", path=path)
    assert_denied(result, "not_found")


def test_count_lines_reports_escapes_per_path_and_counts_the_rest(world: World) -> None:
    result = world.call(
        "count_lines",
        paths=["../proj_evil/secret.txt", "/etc/passwd", "notes.txt", "~/x", "a\x00b"],
    )
    assert result.status == "ok"
    files = result.content["files"]
    assert [f.get("reason") for f in files] == [
        "outside_root",
        "outside_root",
        None,
        "invalid_path",
        "invalid_path",
    ]
    assert files[2]["lines"] == 2
    assert_no_leak(result)


def test_very_long_path_is_refused(world: World) -> None:
    path = "a/" * 3000 + "x.txt"
    assert_denied(world.call("write_file", path=path, content="x"), "invalid_path")
    assert_denied(world.call("read_file", path=path), "invalid_path")
    assert not (world.root / "a").exists()


def test_deep_directory_bomb_is_refused(world: World) -> None:
    # dir fds have no PATH_MAX: without a depth cap this would create 1000 nested folders
    path = "d/" * 1000 + "x.txt"
    assert_denied(world.call("write_file", path=path, content="x"), "invalid_path")
    assert not (world.root / "d").exists()


def test_writing_the_root_itself_or_a_directory_is_refused(world: World) -> None:
    assert_denied(world.call("write_file", path=".", content="x"), "invalid_path")
    assert_denied(world.call("write_file", path=str(world.root), content="x"), "invalid_path")
    assert_denied(world.call("write_file", path="src", content="x"), "invalid_path")
    assert (world.root / "src" / "app.py").exists()


def test_file_used_as_a_directory_is_refused(world: World) -> None:
    assert_denied(world.call("write_file", path="notes.txt/evil", content="x"), "invalid_path")
    assert (world.root / "notes.txt").read_text() == "hello\nworld\n"


def test_read_of_root_directory_is_refused(world: World) -> None:
    assert_denied(world.call("read_file", path="."), "invalid_path")
    assert SECRET not in world.call("list_files", directory=".", recursive=True).to_model_text()
