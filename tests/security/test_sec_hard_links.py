"""Hard links to credential files and git config, under names no check refuses."""

from __future__ import annotations

import os

import pytest
from conftest import SECRET, World, assert_denied

from mira_jupyter.tools import grep

TOKEN = "ghp_HardLinkedToken99"


@pytest.fixture
def linked(world: World) -> World:
    root = world.root
    (root / ".git" / "config").write_text(f"[remote]\n\turl = https://u:{TOKEN}@host/r\n")
    (root / ".ssh").mkdir()
    (root / ".ssh" / "id_key").write_text(f"{SECRET}\n")
    os.link(root / ".git" / "config", root / "cfg.txt")
    os.link(root / ".env", root / "src" / "settings.txt")
    os.link(root / ".ssh" / "id_key", root / "key.txt")
    return world


@pytest.mark.parametrize("path", ["cfg.txt", "src/settings.txt", "key.txt"])
@pytest.mark.parametrize("tool", ["read_file", "summarize_file", "extract_symbols"])
def test_a_hard_link_to_a_secret_is_not_read(linked: World, tool: str, path: str) -> None:
    result = linked.call(tool, path=path)
    assert_denied(result, "protected_path")
    assert TOKEN not in result.to_model_text()


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_a_hard_link_to_a_secret_is_not_searched(
    linked: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    for pattern in ("url", "API_KEY", "TOP"):
        result = linked.call("grep_files", pattern=pattern, include_ignored=True)
        assert result.status == "ok", result
        files = {m["file"] for m in result.content["matches"]}
        assert not files & {"cfg.txt", "src/settings.txt", "key.txt"}, files
        text = result.to_model_text()
        assert TOKEN not in text and SECRET not in text


def test_a_hard_link_to_a_secret_is_not_listed(linked: World) -> None:
    listing = linked.call("list_files", recursive=True, include_ignored=True)
    assert not {"cfg.txt", "src/settings.txt", "key.txt"} & set(listing.content["files"])


def test_an_ordinary_hard_link_is_still_read(world: World) -> None:
    os.link(world.root / "notes.txt", world.root / "notes2.txt")
    assert world.call("read_file", path="notes2.txt").status == "ok"


@pytest.fixture
def deep(world: World) -> World:
    """Hard links to secrets below the root: a nested .env and a submodule's git config."""
    root = world.root
    (root / "sub").mkdir(exist_ok=True)
    (root / "sub" / ".env.local").write_text(f"TOKEN={TOKEN}\n")
    module = root / ".git" / "modules" / "m"
    module.mkdir(parents=True)
    (module / "config").write_text(f"[remote]\n\turl = https://u:{TOKEN}@host/m\n")
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / ".kube").mkdir()
    (root / "deep" / "er" / ".kube" / "config").write_text(f"token: {TOKEN}\n")
    os.link(root / "sub" / ".env.local", root / "env_copy.txt")
    os.link(module / "config", root / "src" / "module_cfg.txt")
    os.link(root / "deep" / "er" / ".kube" / "config", root / "kube.txt")
    return world


DEEP = {"env_copy.txt", "src/module_cfg.txt", "kube.txt"}


@pytest.mark.parametrize("path", sorted(DEEP))
def test_a_hard_link_to_a_nested_secret_is_not_read(deep: World, path: str) -> None:
    result = deep.call("read_file", path=path)
    assert_denied(result, "protected_path")
    assert TOKEN not in result.to_model_text()


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_a_hard_link_to_a_nested_secret_is_not_searched_or_listed(
    deep: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    result = deep.call("grep_files", pattern="ghp_", include_ignored=True)
    assert result.status == "ok", result
    assert not {m["file"] for m in result.content["matches"]} & DEEP
    assert TOKEN not in result.to_model_text()
    listing = deep.call("list_files", recursive=True, include_ignored=True)
    assert not DEEP & set(listing.content["files"])
