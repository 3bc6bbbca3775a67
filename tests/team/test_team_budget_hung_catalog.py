"""A catalog that accepts connections but never answers refuses a budgeted call in one line
(r17d F7), instead of hanging the cell for good.

The PostgreSQL server is SIGSTOPped: the kernel's TCP stack still accepts connections, so a
client without a connect timeout waits forever for the server's first message. A kernel
new to the lake meets a stopped postmaster (libpq's connect_timeout, which the lake adds
where the location sets none); a kernel already connected meets every server process stopped
(the team budget's own deadline). Either way the call is refused, never sent unchecked. The
steps are interlocked with the kernel through a gate directory; the waits below are hang
bounds, not timings.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .lake_env import child_env, run_json
from .pg_cluster import Cluster
from .test_team_budget_settle import _wait_for

pytestmark = pytest.mark.slow

KERNEL = Path(__file__).resolve().parents[1] / "integration" / "team_budget_child.py"
HANG_BOUND = 600


def _kernel(path: list[str], tmp_path: Path, location: str, data: str, ops: int) -> subprocess.Popen[str]:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("# Loader\nLoads CSV files.\n")
    gate = tmp_path / "gate"
    gate.mkdir(exist_ok=True)
    (gate / "go").touch()  # the model answers at once
    if ops == 1:
        (gate / "back").touch()  # and the kernel goes on after its one operation
    env = child_env(path, MIRA_LAKE_DATA_PATH=data, MIRA_HOST="host-f7", MIRA_TEST_GATE=str(gate))
    with open(tmp_path / "kernel.stderr", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(KERNEL), str(project), location, "5.00", str(ops), "hal"],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        )  # fmt: skip


def _lines(kernel: subprocess.Popen[str]) -> queue.Queue[str]:
    """The kernel's JSON lines (its text view prints other lines too), as they come."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in kernel.stdout:  # type: ignore[union-attr]
            if line.startswith("{"):
                lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _refused_in_one_line(error: str) -> None:
    assert error.startswith("team budget cannot be checked, so nothing is sent"), error
    assert "\n" not in error and "Traceback" not in error, error


def test_a_kernel_new_to_a_catalog_that_never_answers_is_refused_in_one_line(
    team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path: Path
) -> None:
    location, data = lake
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)
    stopped = cluster.pause(backends=False)
    try:
        kernel = _kernel(team_path, tmp_path, location, data, ops=1)
        lines = _lines(kernel)
        progress = json.loads(lines.get(timeout=HANG_BOUND))  # the operation ended
    finally:
        cluster.resume(stopped)
    kernel.wait(timeout=HANG_BOUND)
    assert progress["status"] == "budget_exceeded", progress
    result = json.loads(lines.get(timeout=60))
    assert result["requests"] == 0, result  # nothing was sent
    _refused_in_one_line(result["op_errors"][0])
    assert "cannot be reached" in result["op_errors"][0], result


def test_a_connected_kernel_whose_catalog_stops_answering_is_refused_in_one_line(
    team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path: Path
) -> None:
    location, data = lake
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)
    kernel = _kernel(team_path, tmp_path, location, data, ops=2)
    lines = _lines(kernel)
    _wait_for(tmp_path / "gate" / "op-done", kernel)  # one operation done: connected
    assert json.loads(lines.get(timeout=60))["status"] == "completed"
    stopped = cluster.pause(backends=True)
    try:
        (tmp_path / "gate" / "back").touch()
        progress = json.loads(lines.get(timeout=HANG_BOUND))
    finally:
        cluster.resume(stopped)
    assert progress["status"] == "budget_exceeded", progress
    result = json.loads(lines.get(timeout=HANG_BOUND))
    kernel.wait(timeout=HANG_BOUND)
    assert result["requests"] == 1, result  # the second call was never sent
    _refused_in_one_line(result["op_errors"][1])
