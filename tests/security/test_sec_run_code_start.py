"""A scratch kernel that must start first starts within the run_code call's timeout, and
Stop ends the start (issue 19): a kernel that never answers cannot hold a call for the
fixed minute a start used to have.

The stuck kernel is a real process in the real sandbox that never listens (the command
inside bubblewrap is swapped for a sleeping Python), so the wait is the one a hung kernel gives.
"""

from __future__ import annotations

import sys
import threading

import pytest
from test_sec_run_code import Project

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.tools import scratch_kernel
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.run_code import run_code
from mira_jupyter.tools.types import ToolContext


@pytest.fixture()
def project(tmp_path):
    found = Project(tmp_path)
    yield found
    found.host.close()


SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def never_listening(real=scratch_kernel.build_argv):
    """build_argv with a sleeping Python in place of the kernel (as a kernel hung on an
    import would be): the sandbox is the real one."""
    return lambda bwrap, layout, inner, env: real(bwrap, layout, SLEEPER, env)


@pytest.fixture()
def stuck_kernel(monkeypatch):
    """Kernels that start but never listen."""
    monkeypatch.setattr(scratch_kernel, "build_argv", never_listening())


def test_a_kernel_that_never_answers_fails_the_call_at_its_timeout(project, stuck_kernel):
    result = project.run("1 + 1", timeout=2)
    assert result.status == "error"
    assert "did not start in time (it never listened)" in result.content["error"]
    assert "give this call a longer timeout" in result.content["error"]
    assert not project.host.running and project.host.kernel_pid() is None  # nothing left behind


def test_stop_ends_a_kernel_start(project, stuck_kernel):
    cancel = CancelToken()
    ctx = ToolContext(sandbox=project.sandbox, on_write=project.writes.append, extra={"scratch": project.host}, cancel=cancel)
    timer = threading.Timer(1.0, cancel.cancel)
    timer.start()
    try:
        result = dispatch({"run_code": run_code}, "run_code", {"code": "1 + 1", "timeout": 300}, ctx)
    finally:
        timer.cancel()
    assert result.status == "error"
    assert "the scratch kernel's start was cancelled" in result.content["error"]
    assert not project.host.running


def test_after_a_failed_start_the_next_call_starts_a_working_kernel(project, monkeypatch):
    real = scratch_kernel.build_argv
    monkeypatch.setattr(scratch_kernel, "build_argv", never_listening())
    assert project.run("1 + 1", timeout=1).status == "error"
    monkeypatch.setattr(scratch_kernel, "build_argv", real)
    result = project.run("1 + 1", timeout=60)
    assert result.status == "ok", result.content
    assert result.content["result"] == "2"
    assert any("a new scratch kernel was started" in note for note in result.content["notes"])
