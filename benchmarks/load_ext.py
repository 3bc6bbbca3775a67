"""Cost of ``%load_ext mira_jupyter`` over a bare IPython start: wall time and RSS.

Each measurement is a fresh Python process that starts an InteractiveShell (the baseline),
then loads the extension, reporting the time and resident-memory difference. Prints the
median over the runs. Usage: python benchmarks/load_ext.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, resource, time, os
def rss_kb():
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
before_rss, t0 = rss_kb(), time.perf_counter()
shell.run_line_magic("load_ext", "mira_jupyter")
elapsed = time.perf_counter() - t0
print(json.dumps({"ms": elapsed * 1000, "rss_mb": (rss_kb() - before_rss) / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    ms = statistics.median(s["ms"] for s in samples)
    rss = statistics.median(s["rss_mb"] for s in samples)
    print(f"%load_ext mira_jupyter over bare IPython ({args.runs} fresh processes, median):")
    print(f"  time +{ms:.1f} ms   (target <= 150 ms)")
    print(f"  RSS  +{rss:.1f} MB   (target <= 25 MB)")


if __name__ == "__main__":
    main()
