"""Kernel memory growth over consecutive %%mira operations (widget view, DuckDB logging on).

Starts a real kernel, runs a warm-up operation, records the kernel's RSS, runs N more
operations (each a simple-mode question against the scripted model, shown as the live
widget and logged), and reports the RSS growth. Target: under 30 MB for 100 operations.

Usage: python benchmarks/kernel_memory.py [--operations 100]
"""

from __future__ import annotations

import argparse
import tempfile

from mira_jupyter.testing.kernel import Kernel

SETUP = """
%load_ext mira_jupyter
import mira_jupyter.testing as mt, os
from mira_jupyter.testing.agent_demo import agent_demo_script
mt.use_script(agent_demo_script())
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "widget"
open("README.md", "w").write("# Demo project\\n")
def rss_mb():
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
"""

CELL = "%%mira --mode simple\nwhat does this project do? (question {i})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kernel = Kernel(tmp)
        try:
            kernel.execute(SETUP)
            kernel.execute(CELL.format(i=0))
            _, out = kernel.execute("print(rss_mb())")
            before = float(kernel.text_of(out))
            for i in range(1, args.operations + 1):
                reply, _ = kernel.execute(CELL.format(i=i))
                assert reply["status"] == "ok", reply
            _, out = kernel.execute("print(rss_mb())")
            after = float(kernel.text_of(out))
        finally:
            kernel.shutdown()
    print(f"kernel RSS over {args.operations} operations (widget view, DuckDB log):")
    print(f"  before {before:.1f} MB, after {after:.1f} MB, growth {after - before:+.1f} MB   (target < 30 MB)")


if __name__ == "__main__":
    main()
