"""Team log on DuckLake (PostgreSQL catalog) against the local DuckDB file: write latency per
operation and costs(by="day") latency.

Run with the team DuckDB (duckdb 1.5.5 and its lake extensions) and PostgreSQL's server
programs installed, from the repository root:

    PYTHONPATH=.venv/team-site:. .venv/bin/python benchmarks/team_log.py [--ops 30] [--repeat 20]

(`bash scripts/setup_team_site.sh` fills .venv/team-site; `pip install .[team]` instead makes
the PYTHONPATH unnecessary.) It starts a private PostgreSQL cluster on 127.0.0.1 (as
``nobody`` under root), creates a fresh lake and a fresh local file, and for each:

- **write**: records one full operation (26 events: plan, two tasks, two model calls, tool
  calls, streamed text, a file change) through the real Recorder and times until
  ``flush()`` says every event is in the database; median and p95 over `--ops` operations.
- **costs by day**: ``analytics.costs(location, by="day")`` end to end over what was written;
  median and p95 over `--repeat` calls.

Each figure is wall time, and beside it this process's CPU time for the same span (all its
threads: the recorder writes in the background). On the shared 2-core machine the wall
time grows with the load average while the CPU time barely moves, so the CPU column is the
one to compare between runs; the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "team"), str(ROOT / "tests" / "integration")]

from pg_cluster import start_cluster  # noqa: E402
from store_events import full_operation  # noqa: E402

from mira_jupyter.store import analytics, lake  # noqa: E402
from mira_jupyter.store.recorder import Recorder  # noqa: E402
from mira_jupyter.store.session import SessionInfo  # noqa: E402


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(location: str, ops: int, repeat: int) -> dict[str, float]:
    """Write `ops` operations one by one, then query costs by day `repeat` times."""
    session = SessionInfo.current("/bench", uuid.uuid4().hex[:8])
    recorder = Recorder(location, session, lock_timeout=10.0)
    start = datetime.now(UTC)
    # the first operation also migrates and attaches: timed apart from the rest
    began = time.perf_counter()
    for event in full_operation(f"{session.id}-warm", session.id, start):
        recorder(event)
    assert recorder.flush(timeout=300), "the first operation did not reach the log"
    first = time.perf_counter() - began
    writes, write_cpu = [], []
    for i in range(ops):
        events = full_operation(f"{session.id}-op{i}", session.id, start + timedelta(minutes=i))
        began, cpu = time.perf_counter(), time.process_time()
        for event in events:
            recorder(event)
        assert recorder.flush(timeout=300), "an operation did not reach the log"
        writes.append(time.perf_counter() - began)
        write_cpu.append(time.process_time() - cpu)
    recorder.close(timeout=60)
    reads, read_cpu = [], []
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        frame = analytics.costs(location, by="day")
        reads.append(time.perf_counter() - began)
        read_cpu.append(time.process_time() - cpu)
    assert int(frame["calls"].sum()) == 2 * (ops + 1)
    return {
        "first_s": first,
        "write_median_ms": statistics.median(writes) * 1000,
        "write_p95_ms": _p95(writes) * 1000,
        "costs_median_ms": statistics.median(reads) * 1000,
        "costs_p95_ms": _p95(reads) * 1000,
        "write_cpu_ms": statistics.median(write_cpu) * 1000,
        "costs_cpu_ms": statistics.median(read_cpu) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    lake.check_duckdb()
    import duckdb

    load_before = os.getloadavg()
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="mira-bench-") as tmp:
            location = cluster.create_database("bench_" + uuid.uuid4().hex[:8])
            lake.register_data_path(location, str(Path(tmp) / "lake-data"))
            results = {
                "local file": measure(str(Path(tmp) / "mira.duckdb"), args.ops, args.repeat),
                "DuckLake": measure(location, args.ops, args.repeat),
            }
    finally:
        cluster.remove()
    load = " ".join(f"{a:.1f}" for a in load_before) + " -> " + " ".join(f"{a:.1f}" for a in os.getloadavg())
    print(f"duckdb {duckdb.__version__}, {args.ops} operations of 26 events, {args.repeat} queries; "
          f"load average (1, 5, 15 min) {load}")
    print(f"{'backend':<12} {'first op':>9} {'write median':>13} {'p95':>8} {'CPU':>7} "
          f"{'costs(day) median':>18} {'p95':>8} {'CPU':>7}")
    for name, r in results.items():
        print(f"{name:<12} {r['first_s']:>8.2f}s {r['write_median_ms']:>11.0f}ms "
              f"{r['write_p95_ms']:>6.0f}ms {r['write_cpu_ms']:>5.0f}ms "
              f"{r['costs_median_ms']:>16.0f}ms {r['costs_p95_ms']:>6.0f}ms {r['costs_cpu_ms']:>5.0f}ms")


if __name__ == "__main__":
    main()
