"""Seconds between pytest printing its summary and the process exiting.

Runs pytest on the given paths (default ``tests/unit``) in a child process, notes when the
summary line ("N passed in ...") arrives, and when the process ends. Before the fix in
tests/conftest.py (one collection, then ``gc.freeze()``), the exit took a minute on the
full suite: pytest's unraisable-exception plugin and interpreter shutdown each ran full
garbage collections over the heap the suite had built.

Usage: python benchmarks/pytest_exit.py [pytest paths and options ...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

SUMMARY = re.compile(r"\d+ (passed|failed|error).* in [0-9.]+s")


def main() -> None:
    args = sys.argv[1:] or ["tests/unit"]
    cmd = [sys.executable, "-u", "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    summary_at = None
    summary = ""
    for line in proc.stdout:
        if SUMMARY.search(line):
            summary_at, summary = time.monotonic(), line.strip()
    proc.wait()
    ended = time.monotonic()
    print(f"pytest {' '.join(args)}: {summary}")
    if summary_at is None:
        print(f"no summary line; exit code {proc.returncode} after {ended - started:.1f} s")
        return
    print(f"summary -> exit: {ended - summary_at:.1f} s (whole run {ended - started:.1f} s)")


if __name__ == "__main__":
    main()
