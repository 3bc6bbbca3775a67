"""Every file tool on a 1 GB log and a 300 MB CSV, next to a baseline checkout.

    python benchmarks/big_files.py [--baseline DIR] [--dir DIR] [--timeout 600]

Generates (once, in --dir, default a temp dir) `big.log` (1 GiB, ~100-byte lines, a needle
on the last line) and `data.csv` (300 MiB), warms the page cache, then runs each tool call
in a worker process for this checkout and, with --baseline, for another source tree (e.g.
``git worktree add /tmp/base 528c5d7``), and prints the seconds side by side with what the
result said. Target: every call under 2 s. A baseline call still running after --timeout
is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1 << 30
CALLS = [
    ("read_file", {"path": "big.log"}),
    ("read_file", {"path": "big.log", "start_line": 10**9}),
    ("read_file", {"path": "big.log", "start_line": 5_000_000}),
    ("count_lines", {"paths": ["big.log"]}),
    ("count_lines", {"paths": ["data.csv"]}),
    ("summarize_file", {"path": "data.csv"}),
    ("summarize_file", {"path": "big.log"}),
    ("extract_symbols", {"path": "big.log"}),
    ("grep_files", {"pattern": "NEEDLE-[0-9]+", "path": "big.log"}),
    ("grep_files", {"pattern": "NEEDLE-[0-9]+"}),
    ("list_files", {"recursive": True}),
    ("read_file", {"path": "one_line.txt", "start_line": 2}),
    # "[re2]": the same call with ripgrep hidden (the fallback engine)
    ("grep_files[re2]", {"pattern": "NEEDLE-[0-9]+", "path": "big.log"}),
    ("grep_files[re2]", {"pattern": "needle", "path": "sparse_line.txt"}),
    ("grep_files", {"pattern": "needle", "path": "sparse_line.txt"}),
    ("count_lines", {"paths": ["sparse_line.txt"]}),
    # one call naming the 1 GB files 50 times: one time limit for the whole call
    ("count_lines", {"paths": ["big.log", "data.csv"] * 25}),
    ("summarize_file", {"path": "sparse_line.txt"}),
]


def generate(directory: Path) -> None:
    """The test files, written once (about 10 s)."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "big.log"
    if not log.exists() or log.stat().st_size < GIB:
        line = b"2026-12-01T09:00:00Z INFO worker-3 request handled in 12 ms path=/api/v1/items id=%08d\n"
        block = b"".join(line % i for i in range(10_000))
        with log.open("wb") as f:
            while f.tell() < GIB - len(block):
                f.write(block)
            f.write(b"2026-12-01T10:00:00Z ERROR NEEDLE-42 at the very end\n")
    csv = directory / "data.csv"
    if not csv.exists() or csv.stat().st_size < 300 << 20:
        header = b"id,date,customer,amount,currency,status,comment\n"
        row = b"%d,2026-11-%02d,customer-%05d,%d.%02d,EUR,paid,\"no comment, really\"\n"
        block = b"".join(row % (i, i % 28 + 1, i % 99999, i % 977, i % 100) for i in range(20_000))
        with csv.open("wb") as f:
            f.write(header)
            while f.tell() < (300 << 20) - len(block):
                f.write(block)
    sparse = directory / "sparse_line.txt"
    if not sparse.exists():  # 2 GiB, one line: 8 KiB of text, then a hole (no disk used)
        with sparse.open("wb") as f:
            f.write(b"needle " + b"x" * 8185)
            f.truncate(2 * GIB)
    one = directory / "one_line.txt"
    if not one.exists():
        with one.open("wb") as f:  # 256 MiB without a newline
            chunk = b"x" * (1 << 20)
            for _ in range(256):
                f.write(chunk)


def _summary(result: dict) -> str:
    content = result.get("content", {})
    if result.get("status") != "ok":
        return f"{result.get('status')}: {str(content.get('error', ''))[:70]}"
    keys = ("notice", "warnings", "estimated", "skipped", "sampled", "total_lines", "lines", "match_count")
    parts = []
    for key in keys:
        if key in content:
            parts.append(f"{key}={str(content[key])[:60]}")
    for entry in content.get("files", [])[:1] if isinstance(content.get("files"), list) else []:
        if isinstance(entry, dict):
            parts.append(str({k: entry[k] for k in list(entry)[:5]})[:90])
    return "; ".join(parts)[:150]


def worker(directory: str) -> None:
    """Run every call here, printing one JSON line per call."""
    from mira_jupyter.tools import grep
    from mira_jupyter.tools.dispatch import dispatch
    from mira_jupyter.tools.registry import file_tools
    from mira_jupyter.tools.sandbox import Sandbox
    from mira_jupyter.tools.types import ToolContext

    tools = file_tools()
    ctx = ToolContext(sandbox=Sandbox(directory))
    find_rg = grep.find_rg
    for name, args in CALLS:
        grep.find_rg = (lambda: None) if name.endswith("[re2]") else find_rg
        start = time.perf_counter()
        result = dispatch(tools, name.removesuffix("[re2]"), args, ctx)
        seconds = time.perf_counter() - start
        record = {"status": result.status, "content": result.content}
        print(json.dumps({"call": [name, args], "seconds": seconds, "said": _summary(record)}), flush=True)


def run_source(src: str, directory: Path, timeout: float) -> dict[str, dict]:
    """Timings for one source tree (a worker process with it first on sys.path)."""
    env = {**os.environ, "PYTHONPATH": src}
    out: dict[str, dict] = {}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(directory)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=src,
    )
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        record = json.loads(line)
        out[json.dumps(record["call"])] = record
        if time.monotonic() > deadline:
            break
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="source tree of the code to compare with")
    parser.add_argument("--dir", help="where the generated files live (kept between runs)")
    parser.add_argument("--timeout", type=float, default=600, help="per source tree, seconds")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    directory = Path(args.dir or Path(tempfile.gettempdir()) / "mira-big-files")
    generate(directory)
    for path in directory.iterdir():  # warm the page cache, as a file being worked on is
        if path.name == "sparse_line.txt":
            continue  # a hole: nothing to cache
        with path.open("rb") as f:
            while f.read(1 << 24):
                pass
    here = str(Path(__file__).resolve().parents[1])
    now = run_source(here, directory, args.timeout)
    base = run_source(args.baseline, directory, args.timeout) if args.baseline else {}
    print(f"{'call':<62} {'baseline':>9} {'now':>7}  what the result says (now)")
    for name, call_args in CALLS:
        key = json.dumps([name, call_args])
        label = f"{name}({', '.join(f'{k}={v!r}' for k, v in call_args.items())})"[:62]
        b = base.get(key)
        n = now.get(key)
        b_text = f"{b['seconds']:.2f}s" if b else ("timeout" if args.baseline else "-")
        n_text = f"{n['seconds']:.2f}s" if n else "timeout"
        print(f"{label:<62} {b_text:>9} {n_text:>7}  {n['said'] if n else ''}")
        if b and args.baseline:
            print(f"{'':<62} {'':>9} {'':>7}  baseline: {b['said']}")


if __name__ == "__main__":
    main()
