"""Child process of the team budget tests: one kernel running operations under a team cap.

Usage: python team_budget_child.py PROJECT DATABASE CAP OPS USER [PAUSE]
Runs OPS operations PAUSE seconds apart (default 0). Prints JSON: the status of each
operation, its error and wall-clock start (epoch seconds), and how many requests the greedy
model was sent (last line; a line per operation before it). With a DuckLake DATABASE, MIRA_LAKE_DATA_PATH names its data path.

MIRA_TEST_GATE=DIR interlocks the first operation with the test: its first model call
creates DIR/in-call and waits for DIR/go before it replies; once that operation has ended
the kernel creates DIR/op-done and waits for DIR/back before it goes on.
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


def _signal_and_wait(gate: Path, mark: str, wait_for: str) -> None:
    """Create `mark` in the gate directory, then wait for the test to create `wait_for`."""
    (gate / mark).touch()
    deadline = time.monotonic() + 600
    while not (gate / wait_for).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    project, database, cap, ops, user = sys.argv[1:6]
    pause = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    os.environ["MIRA_USER"] = user
    gate = Path(os.environ["MIRA_TEST_GATE"]) if os.environ.get("MIRA_TEST_GATE") else None
    respond = greedy()

    def responder(record):  # type: ignore[no-untyped-def]
        if gate is not None and not (gate / "in-call").exists():
            _signal_and_wait(gate, "in-call", "go")
        return respond(record)

    script = mt.use_script(mt.Script(responder=responder))
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
        if gate is not None and i == 0:
            _signal_and_wait(gate, "op-done", "back")
    session.close()
    print(json.dumps({
        "statuses": statuses, "errors": [e for e in errors if e], "op_errors": errors,
        "started": started, "requests": len(script.requests),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
