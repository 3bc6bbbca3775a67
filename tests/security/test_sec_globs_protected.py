"""Glob patterns that climb out, and writes to the files that steer the agent."""

from __future__ import annotations

import pytest
from conftest import SECRET, World, assert_denied, assert_no_leak

from mira_jupyter.tools import grep

CLIMBING_GLOBS = [
    "../*",
    "../**",
    "**/../../x",
    "sub/../../x",
    "../proj_evil/*",
    "*/../../*",
    "{..,src}/*",
    "src/{a,..}/../*",
    "/etc/*",
    "~/*",
    "..\\*",
]


@pytest.mark.parametrize("pattern", CLIMBING_GLOBS)
def test_list_files_glob_with_dotdot_or_absolute_is_refused(world: World, pattern: str) -> None:
    assert_denied(world.call("list_files", pattern=pattern), "outside_root")


@pytest.mark.parametrize("pattern", CLIMBING_GLOBS)
def test_grep_file_pattern_with_dotdot_is_refused(world: World, pattern: str) -> None:
    assert_denied(world.call("grep_files", pattern="SECRET", file_pattern=pattern), "outside_root")


@pytest.mark.parametrize("pattern", ["[.][.]/*", "?./*", ".[.]/proj_evil/*", "**/*secret*"])
def test_globs_that_only_look_like_dotdot_match_nothing_outside(world: World, pattern: str) -> None:
    # globs are matched against walked paths, which never leave the root
    listing = world.call("list_files", pattern=pattern)
    assert listing.status == "ok"
    assert all(not f.startswith("..") for f in listing.content["files"])
    assert_no_leak(listing)
    found = world.call("grep_files", pattern=SECRET[:8], file_pattern=pattern)
    assert found.status == "ok" and found.content["matches"] == []


def test_glob_nul_and_negation_are_refused(world: World) -> None:
    assert_denied(world.call("list_files", pattern="*\x00"), "invalid_path")
    assert_denied(world.call("grep_files", pattern="x", file_pattern="!*.py"), "invalid_path")


# ---------------------------------------------------------------------------------------
# protected paths


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".git/hooks/pre-commit",
        ".git",
        "./.git/../.git/config",
        "src/../.git/HEAD",
        ".GIT/config",
        ".Git/hooks/post-checkout",
        "vendor/lib/.git/config",
        ".mira/settings.toml",
        ".mira/hooks.json",
        ".MIRA/new.toml",
        "skills/debugging.md",
        "skills/evil.md",
        "SKILLS/evil.md",
        "mira.duckdb",
        "mira.duckdb.wal",
        "MIRA.DuckDB",
        "mira.duckdb-journal",
        ".env",
        ".env.local",
        "deploy/id_rsa",
        "certs/server.pem",
    ],
)
def test_writes_to_control_files_are_refused(world: World, path: str) -> None:
    before = {p: p.read_bytes() for p in world.root.rglob("*") if p.is_file()}
    result = world.call("write_file", path=path, content="[core]\n\thooksPath = /tmp/evil\n")
    assert_denied(result, "protected_path")
    after = {p: p.read_bytes() for p in world.root.rglob("*") if p.is_file()}
    assert after == before
    assert world.writes == []


def test_absolute_path_to_database_wal_is_refused(world: World) -> None:
    assert_denied(
        world.call("write_file", path=str(world.root / "mira.duckdb.wal"), content="x"),
        "protected_path",
    )


def test_database_outside_the_root_stays_protected_when_root_is_its_parent(tmp_path) -> None:
    from mira_jupyter.tools.dispatch import dispatch
    from mira_jupyter.tools.registry import file_tools
    from mira_jupyter.tools.sandbox import Sandbox
    from mira_jupyter.tools.types import ToolContext

    db = tmp_path / "data" / "log.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"DB")
    sandbox = Sandbox(tmp_path, protected=[db])
    result = dispatch(
        file_tools(),
        "write_file", {"path": "data/log.duckdb", "content": "x"}, ToolContext(sandbox=sandbox)
    )
    assert_denied(result, "protected_path")
    assert db.read_bytes() == b"DB"


def test_secret_files_are_neither_read_listed_nor_grepped(world: World) -> None:
    assert_denied(world.call("read_file", path=".env"), "protected_path")
    assert_denied(world.call("summarize_file", path=".env"), "protected_path")
    listing = world.call("list_files", recursive=True)
    assert ".env" not in listing.content["files"]
    assert ".env.example" in listing.content["files"]
    assert_no_leak(listing)
    assert world.call("read_file", path=".env.example").status == "ok"


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_grep_never_returns_secret_file_lines(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    result = world.call("grep_files", pattern="API_KEY", include_ignored=True)
    assert result.status == "ok"
    assert [m["file"] for m in result.content["matches"]] == [".env.example"]
    assert_no_leak(result)
    assert_denied(world.call("grep_files", pattern="API_KEY", path=".env"), "protected_path")


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_grep_never_searches_git_internals(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    result = world.call("grep_files", pattern="core", include_ignored=True)
    assert result.status == "ok"
    assert not any(m["file"].startswith(".git/") for m in result.content["matches"])
