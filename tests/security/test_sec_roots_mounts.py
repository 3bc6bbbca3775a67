"""r10e F2: a bind mount of '/' (or a loop onto the root) *below* the project root is refused.

`proj/host` bound to '/' (a container's ``-v /:/mnt/host`` with the workspace as root) is a
path inside the project that is really the whole machine: the file tools must not read,
write, list or search through it, and a command must not write through it. An ordinary
data directory bound into the project keeps working. Needs root for a private mount
namespace; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

_CHILD = r"""
import json, os, subprocess, sys
from mira_jupyter.tools.bwrap import Layout, build_argv
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

proj, outside = sys.argv[1], sys.argv[2]
via_host = "host" + outside  # the outside directory, spelled through the mount of '/'
ctx = ToolContext(sandbox=Sandbox(proj))
tools = file_tools()
calls = {
    "read": ("read_file", {"path": via_host + "/secret.txt"}),
    "write": ("write_file", {"path": via_host + "/written.txt", "content": "x\n"}),
    "list_host": ("list_files", {"directory": via_host}),
    "grep_host": ("grep_files", {"pattern": "OUTSIDE-MARK", "path": via_host}),
    "read_loop": ("read_file", {"path": "loop/top.txt"}),
    "missing_host": ("read_file", {"path": "host/no-such-file-here"}),
    "read_data": ("read_file", {"path": "data/inside.txt"}),
    "write_data": ("write_file", {"path": "data/new.txt", "content": "fine\n"}),
    "list_all": ("list_files", {"recursive": True, "pattern": "*.txt"}),
    "grep_all": ("grep_files", {"pattern": "OUTSIDE-MARK|INSIDE-MARK"}),
}
out = {}
for key, (tool, args) in calls.items():
    result = dispatch(tools, tool, args, ctx)
    out[key] = [result.status, result.to_model_text()]
out["written_outside"] = os.path.exists(os.path.join(outside, "written.txt"))
bwrap = build_argv("bwrap", Layout(root=proj), ["sh", "-c", f"echo x > {via_host}/cmd.txt"], {}, proj)
done = subprocess.run(bwrap, cwd=proj, capture_output=True, text=True)
out["bwrap_rc"] = done.returncode
out["bwrap_err"] = done.stderr[-300:]
out["cmd_written_outside"] = os.path.exists(os.path.join(outside, "cmd.txt"))
print(json.dumps(out))
"""


def _run_in_private_mounts(script: str) -> str:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no mount namespace here: {probe.stderr.decode(errors='replace')[:120]}")
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One private mount namespace: proj/host = '/', proj/loop = proj, proj/data = a data dir."""
    base = tmp_path_factory.mktemp("mounts").resolve()
    proj, outside, data = base / "proj", base / "outside", base / "somedata"
    for d in (proj / "host", proj / "loop", proj / "data", outside, data):
        d.mkdir(parents=True)
    (outside / "secret.txt").write_text("OUTSIDE-MARK secret\n")
    (data / "inside.txt").write_text("INSIDE-MARK data\n")
    (proj / "top.txt").write_text("top\n")
    child = base / "child.py"
    child.write_text(_CHILD)
    q = shlex.quote
    script = (
        f"mount --bind / {q(str(proj / 'host'))} && "
        f"mount --bind {q(str(data))} {q(str(proj / 'data'))} && "
        f"mount --bind {q(str(proj))} {q(str(proj / 'loop'))} && "
        f"{q(sys.executable)} {q(str(child))} {q(str(proj))} {q(str(outside))}"
    )
    out = json.loads(_run_in_private_mounts(script).strip().splitlines()[-1])
    out["data_new_written"] = (data / "new.txt").exists()
    return out


def test_read_through_a_mount_of_slash_is_refused_in_one_line(results: dict) -> None:
    status, text = results["read"]
    assert status == "denied"
    assert "OUTSIDE-MARK" not in text
    assert "'host' is a mount of the whole file system" in text


def test_a_missing_file_through_the_mount_says_the_mount_not_not_found(results: dict) -> None:
    status, text = results["missing_host"]  # "does not exist" would tell what the host holds
    assert status == "denied" and "whole file system" in text and "does not exist" not in text


def test_write_through_a_mount_of_slash_is_refused_and_writes_nothing(results: dict) -> None:
    status, text = results["write"]
    assert status == "denied" and "whole file system" in text
    assert results["written_outside"] is False


def test_list_and_grep_do_not_go_through_the_mount(results: dict) -> None:
    for key in ("list_host", "grep_host"):
        status, text = results[key]
        assert status == "denied" and "whole file system" in text, key
        assert "secret.txt" not in text and "OUTSIDE-MARK" not in text, key


def test_project_wide_list_and_grep_leave_the_mount_out(results: dict) -> None:
    for key in ("list_all", "grep_all"):
        status, text = results[key]
        assert status == "ok", (key, text)
        # the outside line, not the mark: grep's answer repeats its pattern
        assert "OUTSIDE-MARK secret" not in text and "secret.txt" not in text, key
        assert "data/inside.txt" in text, key
        assert "loop/" not in text, key  # the loop onto the root is not walked either
    listed = results["list_all"][1]
    assert "'host' left out: it is a mount of the whole file system" in listed
    assert "'loop' left out: it is the project root itself" in listed


def test_a_loop_onto_the_root_is_refused(results: dict) -> None:
    status, text = results["read_loop"]
    assert status == "denied" and "'loop' is the project root itself" in text


def test_an_ordinary_bind_mounted_data_dir_still_works(results: dict) -> None:
    status, text = results["read_data"]
    assert status == "ok" and "INSIDE-MARK" in text
    assert results["write_data"][0] == "ok" and results["data_new_written"]


def test_a_command_cannot_write_through_the_mount(results: dict) -> None:
    if results["bwrap_rc"] != 0 and "Creating new namespace failed" in results["bwrap_err"]:
        pytest.skip("bubblewrap cannot create namespaces here")
    assert results["cmd_written_outside"] is False, results["bwrap_err"]
