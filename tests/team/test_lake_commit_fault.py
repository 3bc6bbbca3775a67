"""A catalog lost at the commit of a team-budget write or an export is one line (r17d F9).

The recorder's commit path said DuckDB's raw 'TransactionContext Error: Failed to commit:
Failed to execute query "ROLLBACK"' until 0dc707f; the team ledger and the export commit
through the same Database.transaction, checked here. The child waits at a gate just before
its COMMIT while the test stops the server.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .lake_env import child_env, run_json
from .pg_cluster import Cluster

pytestmark = pytest.mark.slow

CHILD = r"""
import os, sys, time
from decimal import Decimal
from mira_jupyter.store.db import Database
from mira_jupyter.store.session import SessionInfo
from mira_jupyter.store.team_budget import TeamLedger
location, gate, what = sys.argv[1:4]
ledger = TeamLedger(location, Decimal(1), "day", SessionInfo.current("/p"))

def wait():
    open(os.path.join(gate, "at-commit"), "w").close()
    while not os.path.exists(os.path.join(gate, "go")):
        time.sleep(0.05)

def work(con):
    con.execute("UPDATE team_budget_lock SET version = version + 1")
    wait()

try:
    if what == "ledger":
        ledger._retrying(work)
    else:  # the transaction %mira export --to copies in
        with Database(location, journal_dir=None).transaction() as con:
            con.execute("INSERT INTO team_budget_lock VALUES (7)")
            wait()
    print("committed")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")
"""


@pytest.mark.parametrize("what", ["ledger", "export"])
def test_a_catalog_lost_at_commit_is_said_in_words(
    what: str, team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path: Path
) -> None:
    location, data = lake
    run_json(team_path, "check", location, MIRA_LAKE_DATA_PATH=data)  # created and migrated
    gate = tmp_path / "gate"
    gate.mkdir()
    env = child_env(team_path, MIRA_LAKE_DATA_PATH=data)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, location, str(gate), what],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    while not (gate / "at-commit").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()[-2000:]  # type: ignore[union-attr]
        time.sleep(0.05)
    cluster.stop()
    try:
        (gate / "go").touch()
        out, err = child.communicate(timeout=600)
    finally:
        cluster.start()
    said = out.strip().splitlines()[-1]
    assert said.startswith("LakeUnreachable: the team log's catalog cannot be reached"), said
    assert "TransactionContext" not in said and "ROLLBACK" not in said, said
