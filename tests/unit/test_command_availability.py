"""Where bubblewrap is missing or cannot start, commands are refused with one line saying
why and how to enable them, and nothing ever runs unsandboxed."""

from __future__ import annotations

import os
import sys

import pytest

from mira_jupyter.tools import bwrap, commands
from mira_jupyter.tools.bwrap import Layout, build_argv, sandbox_env, secret_values
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext


@pytest.fixture(autouse=True)
def fresh_probe():
    bwrap.check_available.cache_clear()
    yield
    bwrap.check_available.cache_clear()


def _run(tmp_path, argv):
    marker = tmp_path / "ran"
    ctx = ToolContext(sandbox=Sandbox(tmp_path), extra={"commands": CommandSettings()})
    result = dispatch({"run_command": run_command}, "run_command", {"argv": argv + [f"open({str(marker)!r}, 'w')"]}, ctx)
    return result, marker


def test_missing_bwrap_is_refused_with_how_to_enable_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = bwrap.check_available()
    assert not found.ok and "bubblewrap (bwrap) is not installed" in found.reason
    assert "apt-get install bubblewrap" in found.reason and "\n" not in found.reason
    result, marker = _run(tmp_path, ["python", "-c"])
    assert result.status == "denied" and "not installed" in result.content["error"]
    assert not marker.exists()  # never run without the sandbox


def test_a_bwrap_that_cannot_create_namespaces_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    os.chmod(fake / "bwrap", 0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    found = bwrap.check_available()
    assert not found.ok and "setting up uid map: Permission denied" in found.reason
    assert "unprivileged_userns_clone" in found.reason
    result, marker = _run(tmp_path, ["python", "-c"])
    assert result.status == "denied" and not marker.exists()


def test_root_without_a_pids_cgroup_is_refused(monkeypatch):
    monkeypatch.setattr(bwrap, "_probe", lambda path: None)
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: "/usr/bin/bwrap")
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 0)
    monkeypatch.setattr(bwrap, "find_pids_cgroup", lambda: None)
    found = bwrap.check_available()
    assert not found.ok and "process limit is not enforced" in found.reason


def test_other_systems_are_refused(monkeypatch):
    monkeypatch.setattr(bwrap.sys, "platform", "darwin")
    found = bwrap.check_available()
    assert not found.ok and "not available on darwin" in found.reason


def test_commands_not_enabled_for_the_operation(tmp_path):
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    result = dispatch({"run_command": run_command}, "run_command", {"argv": ["python", "-V"]}, ctx)
    assert result.status == "denied" and "not enabled" in result.content["error"]


def test_the_environment_is_an_allow_list():
    env = sandbox_env(
        {"PATH": "/usr/bin:.:relative/bin", "OPENAI_API_KEY": "sk-x", "AWS_SECRET_ACCESS_KEY": "a",
         "GITHUB_TOKEN": "g", "LANG": "en_US.UTF-8", "PYTHONPATH": "/evil", "LD_PRELOAD": "/evil.so"}
    )  # fmt: skip
    assert set(env) <= {
        "PATH", "HOME", "TMPDIR", "TERM", "NO_COLOR", "PYTHONUNBUFFERED", "LANG", "VIRTUAL_ENV",
        "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX",
    }  # fmt: skip
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONPYCACHEPREFIX"].startswith("/tmp/")
    assert env["PATH"].split(":")[0] == os.path.dirname(sys.executable)
    assert "." not in env["PATH"].split(":") and "relative/bin" not in env["PATH"]
    assert env["HOME"] == "/tmp" and env["LANG"] == "en_US.UTF-8"


def test_secret_values_to_scrub():
    values = secret_values({"OPENAI_API_KEY": "sk-123456789", "DB_PASSWORD": "hunter2hunter2", "SHORT_KEY": "abc", "PATH": "/usr/bin"})
    assert values == ["hunter2hunter2", "sk-123456789"]


def test_a_venv_inside_the_project_is_bound_read_only_over_it(tmp_path, monkeypatch):
    venv = tmp_path / ".venv"
    venv.mkdir()
    monkeypatch.setattr(bwrap, "interpreter_dirs", lambda: [str(venv)])
    argv = build_argv("bwrap", Layout(str(tmp_path), read_only=[".git"]), ["python"], {"PATH": "/usr/bin"})
    root_bind = argv.index("--bind")
    assert argv[root_bind : root_bind + 3] == ["--bind", str(tmp_path), str(tmp_path)]
    venv_bind = argv.index(str(venv)) - 1
    assert argv[venv_bind] == "--ro-bind" and venv_bind > root_bind  # later mounts win
    assert argv.index(str(tmp_path / ".git")) > root_bind
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert "--share-net" not in argv


def test_mira_commands_trait(monkeypatch):
    from mira_jupyter.config import Mira

    assert Mira().commands == ["python", "pytest", "ruff"]
    monkeypatch.setenv("MIRA_COMMANDS", "pytest, make")
    assert Mira().engine_settings().commands == ("pytest", "make")
    with pytest.raises(Exception, match="program names"):
        Mira(commands=["/bin/sh"])
    assert commands.DEFAULT_COMMANDS == ("python", "pytest", "ruff")
