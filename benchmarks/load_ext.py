"""Cost of ``%load_ext mira_jupyter`` over a bare IPython start, and what the warm-up buys.

Each measurement is a fresh Python process that starts an InteractiveShell (the baseline),
then loads the extension in a cell, reporting the time and resident-memory difference.
The heavy imports (openai, duckdb, pandas, ipywidgets, the tokenizer) are warmed on a
background thread once that cell has finished, so they are not on the load_ext clock.

With ``--first-cell`` each process then waits ``--pause`` seconds (the user typing) and
times the first ``%%mira`` cell (simple mode, scripted model, in-memory log), once with
the warm-up and once without it (``MIRA_NO_WARMUP=1``).

Prints the medians. Usage: python benchmarks/load_ext.py [--runs 15] [--first-cell]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = r"""
import json, resource, sys, time, os
def rss_kb():
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
before_rss, t0 = rss_kb(), time.perf_counter()
shell.run_cell("%load_ext mira_jupyter")
elapsed = time.perf_counter() - t0
result = {"ms": elapsed * 1000, "rss_mb": (rss_kb() - before_rss) / 1024}
if sys.argv[1] == "first-cell":
    time.sleep(float(sys.argv[2]))
    import mira_jupyter.testing as mt
    mt.use_script(mt.Script({"gpt-5": [{"text": "hello"}]}))
    shell.run_line_magic("config", 'Mira.orchestrator_model = "scripted:gpt-5"')
    shell.run_line_magic("config", 'Mira.database = ":memory:"')
    shell.run_line_magic("config", 'Mira.view = "text"')
    t0 = time.perf_counter()
    shell.run_cell("%%mira --mode simple\nsay hello")
    result["first_cell_ms"] = (time.perf_counter() - t0) * 1000
    from mira_jupyter.notebook import warmup
    if warmup.current() is not None:
        warmup.current().wait(60)
    result["rss_after_mb"] = (rss_kb() - before_rss) / 1024
print(json.dumps(result))
"""


def _probe(mode: str, pause: float, warm: bool) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("MIRA_NO_WARMUP", None)
    if not warm:
        env["MIRA_NO_WARMUP"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(pause)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--first-cell", action="store_true")
    parser.add_argument("--pause", type=float, default=3.0)
    args = parser.parse_args()
    samples = [_probe("load", 0, warm=True) for _ in range(args.runs)]
    ms = statistics.median(s["ms"] for s in samples)
    rss = statistics.median(s["rss_mb"] for s in samples)
    print(f"%load_ext mira_jupyter over bare IPython ({args.runs} fresh processes, median):")
    print(f"  time +{ms:.1f} ms   (target <= 150 ms)")
    print(f"  RSS  +{rss:.1f} MB   (target <= 25 MB)")
    if not args.first_cell:
        return
    print(f"first %%mira cell, {args.pause:.0f} s after %load_ext (median of {args.runs}):")
    for warm in (False, True):
        runs = [_probe("first-cell", args.pause, warm) for _ in range(args.runs)]
        first = statistics.median(s["first_cell_ms"] for s in runs)
        after = statistics.median(s["rss_after_mb"] for s in runs)
        label = "with warm-up   " if warm else "without warm-up"
        print(f"  {label}: {first:7.1f} ms   (RSS +{after:.1f} MB once everything is loaded)")


if __name__ == "__main__":
    main()
