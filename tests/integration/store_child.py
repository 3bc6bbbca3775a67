"""Child process for the store tests: a "kernel" that records, or a process holding the lock.

Usage: python store_child.py ACTION DB [ARGS...]
  write DB SESSION OPS       record OPS full operations, close, print "done <accepted>"
  stream DB SESSION SECONDS  record operations continuously for SECONDS, flushing each;
                             print "done <ops> <flush failures>"
  hold DB                    open DB read-write, print "held", hold it until stdin closes
  die DB SESSION K           record one operation without its finish, the first K events
                             flushed to the database and the rest only journaled; print
                             "ready", then wait to be killed
  die-mid-call DB SESSION    record an operation whose model call is streaming (started,
                             some answer text, never finished), flush it, print "ready",
                             then wait to be killed
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_events import full_operation  # noqa: E402

from mira_jupyter.store.recorder import Recorder  # noqa: E402
from mira_jupyter.store.session import SessionInfo  # noqa: E402


def main() -> None:
    action, db = sys.argv[1], sys.argv[2]
    if action == "hold":
        import duckdb

        con = duckdb.connect(db)
        print("held", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        con.close()
        return
    session = SessionInfo.current("/proj", sys.argv[3])
    # the dying kernel never flushes on its own, so what reaches the database is exact
    interval = 3600.0 if action.startswith("die") else 0.2
    recorder = Recorder(db, session, lock_timeout=0.5, flush_interval=interval)
    if action == "write":
        for i in range(int(sys.argv[4])):
            for event in full_operation(f"{session.id}-op{i}", session.id):
                recorder(event)
        ok = recorder.close(timeout=60)
        print("done", recorder._accepted, ok, flush=True)
    elif action == "stream":
        end = time.monotonic() + float(sys.argv[4])
        ops = failures = 0
        while time.monotonic() < end:
            for event in full_operation(
                f"{session.id}-op{ops}", session.id, start=datetime.now(UTC)
            ):
                recorder(event)
            ops += 1
            failures += not recorder.flush(timeout=5)
        ok = recorder.close(timeout=30)
        print("done", ops, failures, ok, flush=True)
    elif action == "die":
        events = full_operation(f"{session.id}-op", session.id)[:-1]
        flushed = int(sys.argv[4])
        for event in events[:flushed]:
            recorder(event)
        if flushed and not recorder.flush(timeout=30):
            raise SystemExit("could not flush")
        for event in events[flushed:]:
            recorder(event)
        print("ready", len(events), flush=True)
        time.sleep(600)
    elif action == "die-mid-call":
        from mira_jupyter.core.events import LLMCallStarted, OperationStarted, TextDelta

        op = f"{session.id}-op"
        recorder(
            OperationStarted(
                operation_id=op,
                session_id=session.id,
                request="Explain what the CSV loader does with empty dates " * 20,
                mode="simple",
                orchestrator_model="openai:gpt-5",
                executor_model="deepseek:deepseek-chat",
                project_root="/proj",
            )
        )
        recorder(
            LLMCallStarted(
                operation_id=op, call_id="call-cut", role="orchestrator", provider="openai",
                model="gpt-5", purpose="simple",
            )
        )
        for piece in ("The loader ", "drops rows ", "whose date is empty ", "because "):
            recorder(TextDelta(operation_id=op, text=piece * 25))
        if not recorder.flush(timeout=60):
            raise SystemExit("could not flush")
        print("ready", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    main()
