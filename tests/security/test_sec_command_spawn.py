"""A sandboxed command is spawned without a pre-exec function (so Python uses vfork, whose
cost does not grow with the kernel's memory), yet its limits hold as before: the rlimits
are set by prlimit before bwrap starts, and as root the pids and memory cgroups are joined
by a shell that then execs it.

The commands really run inside bubblewrap; skipped where it cannot, except under
scripts/test.sh (CI), where MIRA_REQUIRE_BWRAP=1 turns that into a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import command_run
from mira_jupyter.tools.bwrap import check_available
from mira_jupyter.tools.command_run import CommandLimits
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext, ToolResult

require_bwrap()

if shutil.which("prlimit", path="/usr/bin:/bin") is None:
    pytest.skip("prlimit (util-linux) is missing: commands fall back to a pre-exec function", allow_module_level=True)

LIMITS = CommandLimits(cpu_seconds=37, memory_bytes=1_500_000_000, file_bytes=3_000_000, processes=64)


def _run(root: Path, code: str, limits: CommandLimits = LIMITS) -> ToolResult:
    ctx = ToolContext(sandbox=Sandbox(root), extra={"commands": CommandSettings(limits=limits)})
    return dispatch({"run_command": run_command}, "run_command", {"argv": ["python", "-c", code]}, ctx)


def test_the_command_is_spawned_without_a_pre_exec_function(tmp_path, monkeypatch):
    seen: list[object] = []
    real = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen:
        seen.append(kwargs.get("preexec_fn"))
        return real(*args, **kwargs)

    monkeypatch.setattr(command_run.subprocess, "Popen", popen)
    assert _run(tmp_path, "print('ok')").content["output"].strip() == "ok"
    assert seen == [None]


def test_its_rlimits_are_the_configured_ones(tmp_path):
    code = """
import resource as r
print(*(r.getrlimit(x)[0] for x in (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_FSIZE, r.RLIMIT_CORE)))
try:
    open('big', 'wb').write(b'x' * 4_000_000); print('WROTE')
except OSError as exc:
    print('refused', exc.errno)
"""
    output = _run(tmp_path, code).content["output"]
    assert output.splitlines()[0] == "37 1500000000 3000000 0", output
    assert "WROTE" not in output and "refused 27" in output  # EFBIG past the file size cap
    assert os.path.getsize(tmp_path / "big") <= 3_000_000


def test_as_root_the_command_runs_inside_its_pids_and_memory_cgroups(tmp_path):
    if check_available().pids_cgroup is None:
        pytest.skip("not root: the process limit is RLIMIT_NPROC, set by prlimit")
    found: dict[str, list[str]] = {}

    def look() -> None:
        for _ in range(1200):
            if (tmp_path / "started").exists():
                break
            time.sleep(0.05)
        pattern = f"mira-cmd-{os.getpid()}-*"
        for path in glob.glob(f"/sys/fs/cgroup/pids/{pattern}/cgroup.procs") + glob.glob(
            f"/sys/fs/cgroup/memory/**/{pattern}/cgroup.procs", recursive=True
        ):
            found[path] = Path(path).read_text().split()
        (tmp_path / "stop").touch()

    watcher = threading.Thread(target=look, daemon=True)
    watcher.start()
    result = _run(
        tmp_path,
        "import os, time\nopen('started', 'w').close()\nwhile not os.path.exists('stop'):\n    time.sleep(0.05)",
    )
    watcher.join(30)
    assert result.content["exit_code"] == 0, result.content
    pids = [path for path in found if "/pids/" in path]
    assert pids and all(found[path] for path in pids), found  # bwrap and the command are in it
