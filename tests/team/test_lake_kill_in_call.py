"""A kernel killed while a model call is in flight leaves the team log readable (r17d F6).

Every reader and writer estimates a dead kernel's unfinished calls (store/interrupted.py).
On DuckLake its JSON join failed with "Failed to cast value to numerical", so after one
SIGKILL mid-call no one could read history or costs, or write, on the whole lake.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .lake_env import child_env

REPO = Path(__file__).resolve().parents[2]

VICTIM = r"""
import os, signal, sys
from datetime import UTC, datetime
sys.path.insert(0, "tests/integration")
from store_events import full_operation
from mira_jupyter.core.events import LLMCallStarted
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo
recorder = Recorder(sys.argv[1], SessionInfo.current("/proj", "s-killed"), lock_timeout=5.0)
events = full_operation("op-killed", "s-killed", datetime.now(UTC))
for seq, event in enumerate(events, 1):
    event.seq = seq
cut = next(i for i, e in enumerate(events) if isinstance(e, LLMCallStarted))
for event in events[: cut + 1]:
    recorder(event)
assert recorder.flush(timeout=60) is not False
os.kill(os.getpid(), signal.SIGKILL)
"""

READER = r"""
import json, sys
from mira_jupyter.store import analytics
location = sys.argv[1]
print(json.dumps({
    "history": len(analytics.history(location, n=50)),
    "calls": analytics.costs(location, by="user")["calls"].tolist(),
    "status": analytics.connect(location).execute("SELECT status FROM operations").fetchall(),
}))
"""


def test_a_kernel_killed_mid_call_leaves_the_lake_readable(team_path, lake) -> None:
    location, data = lake
    env = child_env([*team_path, str(REPO)], MIRA_LAKE_DATA_PATH=data)
    victim = subprocess.run(
        [sys.executable, "-c", VICTIM, location], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert victim.returncode == -9, victim.stderr[-2000:]
    reader = subprocess.run(
        [sys.executable, "-c", READER, location], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert reader.returncode == 0, reader.stderr[-2000:]
    seen = json.loads(reader.stdout.strip().splitlines()[-1])
    assert seen["history"] == 1 and seen["calls"] == [1]
    assert seen["status"] == [["interrupted"]]
