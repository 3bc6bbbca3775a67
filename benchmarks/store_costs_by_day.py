"""Time `costs(by="day")` over one million llm_calls rows.

Run from the repository root:  python benchmarks/store_costs_by_day.py [--rows N] [--db PATH]
The rows are generated inside DuckDB with generate_series (seconds, not minutes); the
database is a temporary file unless --db is given.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mira_jupyter.store import analytics  # noqa: E402
from mira_jupyter.store.db import Database  # noqa: E402

FILL = """
INSERT INTO operations (id, session_id, request, mode, skill, status, started_at, finished_at)
SELECT 'op' || i, 'bench', 'request ' || i, 'planned',
       CASE WHEN i % 5 = 0 THEN 'testing' END, 'completed',
       TIMESTAMPTZ '2025-11-24 00:00:00+00' + to_seconds(i * ($days * 86400 // $ops)),
       TIMESTAMPTZ '2025-11-24 00:00:00+00' + to_seconds(i * ($days * 86400 // $ops) + 30)
FROM generate_series(0, $ops - 1) t(i);

INSERT INTO llm_calls
SELECT 'call' || i, 'op' || (i // $per_op), NULL,
       CASE WHEN i % 3 = 0 THEN 'orchestrator' ELSE 'executor' END,
       CASE WHEN i % 3 = 0 THEN 'openai' ELSE 'deepseek' END,
       CASE WHEN i % 3 = 0 THEN 'gpt-5' ELSE 'deepseek-chat' END,
       'orchestrate', 'high', true,
       TIMESTAMPTZ '2025-11-24 00:00:00+00' + to_seconds(i * ($days * 86400 // $rows)),
       TIMESTAMPTZ '2025-11-24 00:00:01+00' + to_seconds(i * ($days * 86400 // $rows)),
       900.0, 200.0,
       1000 + i % 500, (1000 + i % 500) // 3, 300 + i % 100, i % 50, 'reported',
       0.000750, 0.000050, 0.003000, 0.003800,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 0.013125 END,
       '2026-11', true, 'stop', 'ok', NULL
FROM generate_series(0, $rows - 1) t(i);
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "mira.duckdb"
    database = Database(path)
    per_op = 20
    started = time.perf_counter()
    with database.transaction() as con:
        values = {
            "rows": args.rows,
            "ops": args.rows // per_op,
            "per_op": per_op,
            "days": args.days,
        }
        for statement in FILL.split(";"):
            if statement.strip():
                used = {k: v for k, v in values.items() if f"${k}" in statement}
                con.execute(statement, used)
    fill_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6

    # a fresh process pays the one-off schema check; measure that separately
    fresh = Database(path)
    fresh._shared.ready = False
    started = time.perf_counter()
    first = analytics.costs(fresh, by="day")
    first_ms = (time.perf_counter() - started) * 1000

    timings: dict[str, list[float]] = {}
    for by in ("day", "model", "role", "skill", "operation", "task"):
        for _ in range(args.repeat if by == "day" else 3):
            started = time.perf_counter()
            frame = analytics.costs(path, by=by)
            timings.setdefault(by, []).append((time.perf_counter() - started) * 1000)
        assert frame.attrs["totals"]["calls"] == args.rows
    since = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        analytics.costs(path, by="day", since="30d")
        since.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    snap = analytics.connect(path)
    snapshot_ms = (time.perf_counter() - started) * 1000
    snap.close()

    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, "
        f"{platform.system()} {platform.release()}, python {platform.python_version()}"
    )
    import duckdb

    print(
        f"duckdb {duckdb.__version__}; {args.rows:,} llm_calls over {args.days} days "
        f"({len(first)} day rows), file {size_mb:.0f} MB, generated in {fill_s:.1f} s"
    )
    print(
        f"costs(by='day') first call in a process (schema check, pandas import): {first_ms:.1f} ms"
    )
    for by, values in timings.items():
        print(
            f"costs(by={by!r:12}) median {statistics.median(values):7.1f} ms  "
            f"min {min(values):7.1f} ms  (n={len(values)})"
        )
    print(f"costs(by='day', since='30d') median {statistics.median(since):.1f} ms")
    print(f"connect() snapshot of the whole log: {snapshot_ms:.0f} ms")


if __name__ == "__main__":
    main()
