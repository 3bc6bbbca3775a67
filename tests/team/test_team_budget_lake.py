"""The team budget on the shared log itself: kernels in separate processes reserving against
one cap in a DuckLake with a real PostgreSQL catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from .lake_env import child_env, run_json

pytestmark = pytest.mark.slow

KERNEL = Path(__file__).resolve().parents[1] / "integration" / "team_budget_child.py"


def _kernel(
    path: list[str],
    project: Path,
    location: str,
    data: str,
    cap: str,
    ops: int,
    user: str,
    pause: float = 0.0,
) -> subprocess.Popen[str]:
    env = child_env(path, MIRA_LAKE_DATA_PATH=data, MIRA_HOST=f"host-{user}")
    # stderr to a file: a kernel logging while the test reads only its stdout never blocks
    with open(project.parent / f"{user}.stderr", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(KERNEL), str(project), location, cap, str(ops), user, str(pause)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        )  # fmt: skip


def _stderr(kernel: subprocess.Popen[str]) -> str:
    return (Path(kernel.args[2]).parent / f"{kernel.args[6]}.stderr").read_text()


def _finish(kernel: subprocess.Popen[str]) -> dict:
    out, _ = kernel.communicate(timeout=900)
    err = _stderr(kernel)
    assert kernel.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("# Loader\nLoads CSV files.\n")
    return project


def test_kernels_on_the_lake_never_spend_more_than_the_team_cap_together(
    team_path: list[str], lake: tuple[str, str], tmp_path: Path
) -> None:
    location, data = lake
    project = _project(tmp_path)
    # the lake exists before the kernels start (creating it in a race is tested apart)
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)
    # a greedy gpt-5 call reserves ~$0.04-0.05: $0.20 pays for some of the 12 operations
    cap = "0.20"
    kernels = [
        _kernel(team_path, project, location, data, cap, 4, u) for u in ("ann", "bob", "cho")
    ]
    results = [_finish(k) for k in kernels]
    statuses = [s for r in results for s in r["statuses"]]
    assert "completed" in statuses and "budget_exceeded" in statuses, results
    refusals = [e for r in results for e in r["errors"]]
    assert any("team budget $0.2000 would be exceeded" in e for e in refusals), refusals
    ledger = run_json(team_path, "budget", location)
    spend = Decimal(ledger["spend"])
    assert 0 < spend <= Decimal(cap), ledger
    assert ledger["open"] == 0, ledger  # every reservation was settled
    assert Decimal(ledger["charged"]) == spend, ledger  # ... to what the log says it cost
    assert ledger["reservations"] == ledger["calls"] == sum(r["requests"] for r in results), ledger
    assert ledger["calls_without_reservation"] == 0 and ledger["lock_rows"] == 1, ledger
