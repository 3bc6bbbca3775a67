"""A team reservation is counted once, even when its settlement is never written (r17d F2).

A kernel reserves a call's worst case in the lake before sending it and settles it to the
call's cost afterwards. When the catalog was away at settle time, or the kernel was killed
mid-call, the reservation stayed at its worst case with no call named, and the call's real
cost was counted beside it once the journal brought the call in: the team total was the
spend plus every stale reservation. Both tests are interlocked with the kernel through a
gate directory (its scripted model waits there mid-call), never timed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from .lake_env import child_env, run_json
from .pg_cluster import Cluster

pytestmark = pytest.mark.slow

KERNEL = Path(__file__).resolve().parents[1] / "integration" / "team_budget_child.py"


def _kernel(path: list[str], tmp_path: Path, location: str, data: str, ops: int) -> subprocess.Popen[str]:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("# Loader\nLoads CSV files.\n")
    gate = tmp_path / "gate"
    gate.mkdir()
    env = child_env(path, MIRA_LAKE_DATA_PATH=data, MIRA_HOST="host-f2", MIRA_TEST_GATE=str(gate))
    with open(tmp_path / "kernel.stderr", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(KERNEL), str(project), location, "5.00", str(ops), "fay"],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        )  # fmt: skip


def _wait_for(path: Path, kernel: subprocess.Popen[str], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert kernel.poll() is None, f"the kernel ended before {path.name}"
        assert time.monotonic() < deadline, f"the kernel never reached {path.name}"
        time.sleep(0.05)


def _counted_once(ledger: dict) -> None:
    spend = Decimal(ledger["spend"])
    assert spend > 0, ledger
    # what the team budget counts is what the log says was spent: nothing twice
    assert Decimal(ledger["team_used"]) == spend, ledger
    assert ledger["calls_without_reservation"] == 0, ledger


def test_a_settlement_the_catalog_missed_is_written_later_and_counted_once(
    team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path: Path
) -> None:
    location, data = lake
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)  # the lake exists
    kernel = _kernel(team_path, tmp_path, location, data, ops=2)
    gate = tmp_path / "gate"
    _wait_for(gate / "in-call", kernel)  # reserved in the lake, the model call in flight
    cluster.stop()
    try:
        (gate / "go").touch()  # the call ends and settles while the catalog is away
        _wait_for(gate / "op-done", kernel)
    finally:
        cluster.start()
    (gate / "back").touch()  # the second operation runs, then the kernel closes
    out, _ = kernel.communicate(timeout=900)
    err = (tmp_path / "kernel.stderr").read_text()
    assert kernel.returncode == 0 and "Traceback" not in err, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["statuses"] == ["completed", "completed"], result
    ledger = run_json(team_path, "budget", location, MIRA_LAKE_DATA_PATH=data)
    _counted_once(ledger)
    assert ledger["open"] == 0, ledger  # the missed settlement was written after all
    assert Decimal(ledger["charged"]) == Decimal(ledger["spend"]), ledger
    assert ledger["reservations"] == ledger["calls"] == result["requests"] == 2, ledger


def test_a_kernel_killed_mid_call_is_counted_once_when_its_journal_comes_in(
    team_path: list[str], lake: tuple[str, str], tmp_path: Path
) -> None:
    location, data = lake
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)
    kernel = _kernel(team_path, tmp_path, location, data, ops=1)
    _wait_for(tmp_path / "gate" / "in-call", kernel)
    os.kill(kernel.pid, signal.SIGKILL)
    kernel.communicate(timeout=60)
    assert kernel.returncode == -signal.SIGKILL
    # a later process on the machine replays the journal: the cut call, priced by estimate
    ledger = run_json(team_path, "budget", location, MIRA_LAKE_DATA_PATH=data)
    _counted_once(ledger)
    assert ledger["reservations"] == ledger["calls"] == 1, ledger
