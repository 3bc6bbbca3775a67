"""Child process of the team budget tests: one kernel running operations under a team cap.

Usage: python team_budget_child.py PROJECT DATABASE CAP OPS USER [PAUSE]
Runs OPS operations PAUSE seconds apart (default 0). Prints JSON: the status of each
operation, its error and wall-clock start (epoch seconds), and how many requests the greedy
model was sent (last line; a line per operation before it). With a DuckLake DATABASE, MIRA_LAKE_DATA_PATH names its data path.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from money_helpers import greedy, session_for  # noqa: E402

import mira_jupyter.testing as mt  # noqa: E402
from mira_jupyter.engine.engine import RunOptions  # noqa: E402


def main() -> None:
    project, database, cap, ops, user = sys.argv[1:6]
    pause = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    os.environ["MIRA_USER"] = user
    script = mt.use_script(mt.Script(responder=greedy()))
    session = session_for(
        Path(project), "scripted:gpt-5", database=database,
        team_budget_usd=float(cap), team_budget_period="day",
    )  # fmt: skip
    statuses, errors, started = [], [], []
    for i in range(int(ops)):
        if i and pause:
            time.sleep(pause)
        started.append(time.time())
        op = session.run(f"what is in the project? ({user} {i})", RunOptions(mode="simple"))
        statuses.append(op.status)
        errors.append(op.error or "")
        # a progress line per operation, for a test that acts while the kernel runs
        print(json.dumps({"op": i, "started": started[-1], "status": op.status}), flush=True)
    session.close()
    print(json.dumps({
        "statuses": statuses, "errors": [e for e in errors if e], "op_errors": errors,
        "started": started, "requests": len(script.requests),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
