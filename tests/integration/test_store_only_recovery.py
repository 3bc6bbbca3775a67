"""A process that only opens the store still prices a call a killed kernel cut.

The estimator was installed by importing ``mira_jupyter.session``; a reader such as
``mira_jupyter.store.analytics`` in a plain script recovered the dead operation, closed it,
and left the cut call unpriced for good (a later kernel does not revisit a closed one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("store_child.py")
RECOVER_ONLY = """
import sys
from mira_jupyter.store.db import Database
Database(sys.argv[1]).recover()
print("session imported" if "mira_jupyter.session" in sys.modules else "store only")
"""


def test_a_store_only_process_prices_the_cut_call(tmp_path: Path) -> None:
    db = tmp_path / ".mira" / "mira.duckdb"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", RECOVER_ONLY, str(db)], env=env, check=True, timeout=120)
    kernel = subprocess.Popen(
        [sys.executable, str(CHILD), "die-mid-call", str(db), "kcut"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert kernel.stdout.readline().strip() == "ready"
    kernel.send_signal(signal.SIGKILL)
    kernel.wait(timeout=30)
    done = subprocess.run(
        [sys.executable, "-c", RECOVER_ONLY, str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "store only"
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT status, usage_source, priced, cost_total_usd > 0 FROM llm_calls"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("interrupted", "estimated", True, True)]
