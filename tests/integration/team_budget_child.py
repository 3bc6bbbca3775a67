"""Child process of the team budget tests: one kernel running operations under a team cap.

Usage: python team_budget_child.py PROJECT DATABASE CAP OPS USER
Prints JSON: the status of each operation and what the greedy model was sent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from money_helpers import greedy, session_for  # noqa: E402

import mira_jupyter.testing as mt  # noqa: E402
from mira_jupyter.engine.engine import RunOptions  # noqa: E402


def main() -> None:
    project, database, cap, ops, user = sys.argv[1:6]
    os.environ["MIRA_USER"] = user
    script = mt.use_script(mt.Script(responder=greedy()))
    session = session_for(
        Path(project), "scripted:gpt-5", database=database,
        team_budget_usd=float(cap), team_budget_period="day",
    )  # fmt: skip
    statuses, errors = [], []
    for i in range(int(ops)):
        op = session.run(f"what is in the project? ({user} {i})", RunOptions(mode="simple"))
        statuses.append(op.status)
        if op.error:
            errors.append(op.error)
    session.close()
    print(json.dumps({"statuses": statuses, "errors": errors, "requests": len(script.requests)}))


if __name__ == "__main__":
    main()
