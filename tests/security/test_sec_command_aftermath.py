"""What a command leaves for the user to see: a credential file saved into the project while
a command (or run_code) ran is not passed back in its output, and a change undo cannot
keep is shown in the cell, not only told to the model; files up to the undo cap (16 MB)
are kept for undo.

The commands really run inside bubblewrap; skipped where it cannot, except under
scripts/test.sh (CI), where MIRA_REQUIRE_BWRAP=1 turns that into a failure.
"""

from __future__ import annotations

import os
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import bwrap
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.run_code import run_code
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.scratch_host import ScratchHost
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

require_bwrap()

SAVED = "OPENAI_API_KEY=sk-user-saved-while-the-command-ran-123456"


class Run:
    """Stands for the operation's run: collects the notices the cell would show."""

    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []

    def _notice(self, message: str, level: str = "info") -> None:
        self.notices.append((level, message))


class Project:
    def __init__(self, base: Path) -> None:
        self.root = base / "proj"
        self.root.mkdir()
        (self.root / ".git").mkdir()
        (self.root / "app.py").write_text("def f():\n    return 1\n")
        self.sandbox = Sandbox(self.root)
        self.writes: list[FileWrite] = []
        self.run = Run()
        self.host: ScratchHost | None = None

    def ctx(self, **extra: Any) -> ToolContext:
        extra = {"commands": CommandSettings(), "run": self.run, **extra}
        return ToolContext(sandbox=self.sandbox, on_write=self.writes.append, extra=extra)

    def py(self, code: str) -> ToolResult:
        args = {"argv": ["python", "-c", textwrap.dedent(code)], "timeout": 60}
        return dispatch({"run_command": run_command}, "run_command", args, self.ctx())

    def code(self, code: str) -> ToolResult:
        self.host = self.host or ScratchHost()
        args = {"code": textwrap.dedent(code), "timeout": 60}
        return dispatch({"run_code": run_code}, "run_code", args, self.ctx(scratch=self.host))


@pytest.fixture()
def project(tmp_path):
    found = Project(tmp_path)
    yield found
    if found.host is not None:
        found.host.close()


WAIT_AND_READ = """
import os, time
open('started', 'w').close()
for _ in range(300):
    if os.path.exists({name!r}):
        time.sleep(0.3)
        print('READ:', open({name!r}).read().strip())
        break
    time.sleep(0.1)
"""


def _save_when_started(project: Project, name: str, text: str) -> threading.Thread:
    def save() -> None:
        for _ in range(600):
            if (project.root / "started").exists():
                break
            time.sleep(0.05)
        (project.root / name).write_text(text)

    thread = threading.Thread(target=save, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("via", "name"), [("run_command", ".env"), ("run_code", "id_ed25519")])
def test_a_credential_file_saved_during_a_command_is_not_in_its_output(project, via, name):
    if via == "run_code":
        project.code("1")  # a warm kernel, started before the file exists
    saver = _save_when_started(project, name, SAVED)
    code = WAIT_AND_READ.format(name=name)
    result = project.py(code) if via == "run_command" else project.code(code)
    saver.join(30)
    assert result.status == "ok", result.content
    assert "sk-user-saved" not in str(result.content)
    assert "credential files appeared" in str(result.content["output"]) and name in str(result.content["output"])


def test_a_command_change_undo_cannot_keep_is_shown_to_the_user(project):
    os.symlink("app.py", project.root / "alias.py")
    result = project.py("import os\nos.remove('alias.py')\nos.symlink('/etc/passwd', 'alias.py')")
    assert result.status == "ok", result.content
    shown = " | ".join(message for _level, message in project.run.notices)
    assert "alias.py" in shown and "NOT undoable" in shown


def test_a_three_megabyte_file_changed_by_a_command_is_kept_for_undo(project):
    big = project.root / "big.bin"
    big.write_bytes(b"\x01" * (3 << 20))
    result = project.py("open('big.bin', 'ab').write(b'x')")
    assert result.status == "ok", result.content
    (write,) = [w for w in project.writes if w.path == "big.bin"]
    assert write.previous == b"\x01" * (3 << 20)
    assert not project.run.notices


def test_cgroups_of_killed_kernels_are_swept_by_the_next_command(tmp_path):
    """A kernel SIGKILLed mid-command leaves its empty pids cgroup (named with its pid)."""
    import subprocess
    import sys

    from mira_jupyter.tools import command_run

    base = bwrap.check_available().pids_cgroup
    if base is None:
        pytest.skip("no pids cgroup here (not root): the process limit is RLIMIT_NPROC")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(base) / f"mira-cmd-{dead.pid}-0"
    stale.mkdir()
    live = Path(base) / f"mira-cmd-{os.getpid()}-999999"  # this process's: never swept
    live.mkdir()
    try:
        getattr(command_run, "_swept", set()).discard(base)  # sweep again in this process
        project = Project(tmp_path)
        assert project.py("print('ok')").status == "ok"
        assert not stale.exists()
        assert live.exists()
    finally:
        for path in (stale, live):
            if path.exists():
                path.rmdir()


def test_memory_is_capped_for_all_of_a_commands_processes_together(tmp_path):
    """RLIMIT_AS is per process; as root a memory cgroup caps the sum."""
    from mira_jupyter.tools.command_run import CommandLimits

    if bwrap.check_available().pids_cgroup is None:
        pytest.skip("not root: memory is limited per process only (documented)")
    from mira_jupyter.tools import command_run

    # (getattr: the code before this fix had no memory cgroup at all; this test must fail there)
    base = getattr(command_run, "memory_cgroup_base", lambda: "none before the fix")()
    if base is None and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("no writable memory controller here")
    project = Project(tmp_path)
    limits = CommandLimits(memory_bytes=400 * 1024**2)
    child = "b = bytearray(250 * 1024 * 1024); import time; print('held', flush=True); time.sleep(4)"
    code = f"""
import subprocess, sys
procs = [subprocess.Popen([sys.executable, '-c', {child!r}]) for _ in range(3)]
print('exits', [q.wait() for q in procs])
"""
    args = {"argv": ["python", "-c", code], "timeout": 60}
    ctx = ToolContext(
        sandbox=project.sandbox, on_write=project.writes.append, extra={"commands": CommandSettings(limits=limits)}
    )
    result = dispatch({"run_command": run_command}, "run_command", args, ctx)
    output = str(result.content.get("output"))
    # each child alone fits its 400 MB address space; three at once (750 MB) do not fit the cap
    assert output.count("held") < 3 or "-9" in output, output
