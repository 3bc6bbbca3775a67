"""Links inside the project that lead into .git/ or .mira/, and git's config file itself.

The walk never enters a control directory, but a *file* link elsewhere (``gcfg ->
.git/config``) resolves inside the root and passed every check: the RE2 engine then printed
the remote URL with its token. Every shape of link is tried on every engine and listing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import World, assert_denied

from mira_jupyter.tools import grep

TOKEN = "ghp_SeCrEtToKeN1234"
URL_LINE = f"\turl = https://bot:{TOKEN}@github.com/org/repo.git"


@pytest.fixture
def linked(world: World) -> World:
    """A project whose .git/config and .mira files are reachable through many link shapes."""
    root = world.root
    (root / ".git" / "config").write_text(f'[remote "origin"]\n{URL_LINE}\n')
    (root / ".mira" / "journal.url").write_text(f"url {TOKEN}\n")
    (root / "sub" / "deeper").mkdir(parents=True)
    os.symlink(".git/config", root / "gcfg")  # relative
    os.symlink(root / ".git" / "config", root / "gcfg_abs")  # absolute
    os.symlink("../.git/config", root / "sub" / "up_cfg")  # from a subdirectory
    os.symlink("../../.mira/journal.url", root / "sub" / "deeper" / "mira_url")
    os.symlink("gcfg", root / "link_to_link")  # a link to a link
    os.symlink("sub/up_cfg", root / "link_to_sub_link")
    os.symlink("./.git/../.git/config", root / "dotted")  # an unusual spelling
    os.symlink(".git", root / "gitdir")  # a directory link
    os.symlink("gitdir/config", root / "through_dir_link")  # a file link via a dir link
    return world


FILE_LINKS = [
    "gcfg",
    "gcfg_abs",
    "sub/up_cfg",
    "sub/deeper/mira_url",
    "link_to_link",
    "link_to_sub_link",
    "dotted",
    "through_dir_link",
]


def _force_re2(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize("file_pattern", [None, "*", "**", "gcfg*", "**/*_cfg", "**/mira_url"])
def test_grep_never_follows_a_link_into_a_control_directory(
    linked: World, engine: str, file_pattern: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_re2(monkeypatch, engine)
    args = {"pattern": "url", "include_ignored": True}
    if file_pattern:
        args["file_pattern"] = file_pattern
    result = linked.call("grep_files", **args)
    assert result.status == "ok", result
    assert TOKEN not in result.to_model_text()
    assert result.content["matches"] == []


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize("link", FILE_LINKS)
def test_grep_on_a_link_named_directly_is_refused(
    linked: World, engine: str, link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_re2(monkeypatch, engine)
    result = linked.call("grep_files", pattern="url", path=link)
    assert_denied(result, "protected_path")
    assert TOKEN not in result.to_model_text()


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_grep_under_a_subdirectory_skips_links_into_control_dirs(
    linked: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_re2(monkeypatch, engine)
    (linked.root / "sub" / "plain.txt").write_text("url = https://example.org\n")
    result = linked.call("grep_files", pattern="url", path="sub")
    assert result.status == "ok", result
    assert [m["file"] for m in result.content["matches"]] == ["sub/plain.txt"]
    assert TOKEN not in result.to_model_text()


def test_list_files_does_not_list_links_into_control_dirs(linked: World) -> None:
    listing = linked.call("list_files", recursive=True, include_ignored=True)
    assert listing.status == "ok"
    assert not set(FILE_LINKS) & set(listing.content["files"]), listing.content["files"]
    assert listing.content["skipped"]["links_skipped"] >= len(FILE_LINKS)
    flat = linked.call("list_files")
    assert "gitdir/" not in flat.content["directories"]
    assert "gcfg" not in flat.content["files"]


@pytest.mark.parametrize("link", [p for p in FILE_LINKS if "mira" not in p])
@pytest.mark.parametrize("tool", ["read_file", "summarize_file", "extract_symbols"])
def test_file_tools_refuse_git_config_through_any_link(linked: World, link: str, tool: str) -> None:
    result = linked.call(tool, path=link)
    assert_denied(result, "protected_path")
    assert TOKEN not in result.to_model_text()


def test_count_lines_refuses_git_config_through_a_link(linked: World) -> None:
    result = linked.call("count_lines", paths=["gcfg", ".git/config", "notes.txt"])
    files = result.content["files"]
    assert [f.get("reason") for f in files] == ["protected_path", "protected_path", None]
    assert TOKEN not in result.to_model_text()


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".GIT/config",
        ".git/config.worktree",
        ".git/modules/lib/config",
        "vendor/lib/.git/config",
        "./src/../.git/config",
    ],
)
def test_git_config_reads_are_refused_whether_or_not_it_exists(world: World, path: str) -> None:
    # remote URLs can carry tokens: refused like a credentials file, and a missing one
    # gets the same answer, so the refusal says nothing about which files exist
    (world.root / ".git" / "config").write_text(f'[remote "origin"]\n{URL_LINE}\n')
    result = world.call("read_file", path=path)
    assert_denied(result, "protected_path")
    assert TOKEN not in result.to_model_text()


def test_other_git_files_stay_readable(world: World) -> None:
    (world.root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert world.call("read_file", path=".git/HEAD").status == "ok"


def test_a_link_swapped_to_git_config_after_the_check_is_not_read(
    linked: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the RE2 engine checks `notes.txt` (a plain file), then the name is relinked to
    # .git/config before it opens it: the open re-checks the resolved path
    monkeypatch.setattr(grep, "find_rg", lambda: None)
    root: Path = linked.root
    from mira_jupyter.tools import grep_hits

    real_allowed = grep_hits.Collector.allowed

    def allowed_then_swap(self, rel: str) -> bool:  # noqa: ANN001
        ok = real_allowed(self, rel)
        if rel == "notes.txt" and not (root / "notes.txt").is_symlink():
            (root / "notes.txt").unlink()
            os.symlink(".git/config", root / "notes.txt")
        return ok

    monkeypatch.setattr(grep_hits.Collector, "allowed", allowed_then_swap)
    result = linked.call("grep_files", pattern="url", include_ignored=True)
    assert result.status == "ok", result
    assert TOKEN not in result.to_model_text()


@pytest.mark.parametrize("tool", ["read_file", "summarize_file", "extract_symbols"])
@pytest.mark.parametrize(
    "path", [".env", ".env.x", ".env.production", "deploy/id_rsa", "nodir/.env.local", "k.pem"]
)
def test_secret_names_get_one_answer_whether_or_not_they_exist(
    world: World, tool: str, path: str
) -> None:
    # `.env` exists in the world, the others do not: not_found for the missing ones
    # would tell the model which credential files the project holds
    assert_denied(world.call(tool, path=path), "protected_path")


def test_a_secret_name_that_is_a_link_to_a_plain_file_is_refused_too(world: World) -> None:
    os.symlink("notes.txt", world.root / ".env.local")
    assert_denied(world.call("read_file", path=".env.local"), "protected_path")
    assert world.call("read_file", path="notes.txt").status == "ok"
