"""Time from a kernel interrupt (the ■ button) to the end of a running %%mira cell.

A real kernel runs a simple-mode request whose scripted model stalls mid-stream; the
benchmark interrupts the kernel and measures until the cell's execute_reply, then checks
the log recorded the operation as cancelled. Target: under 1 s.

Usage: python benchmarks/interrupt_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from mira_jupyter.testing.kernel import Kernel

SETUP = """
%load_ext mira_jupyter
import mira_jupyter.testing as mt
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.view = "widget"
"""
STALL = (
    'mt.use_script(mt.Script({"gpt-5": [{"text": "slow " * 50, "fault": "stall", '
    '"stall_seconds": 60, "after_chunks": 2}]}))'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    latencies = []
    with tempfile.TemporaryDirectory() as tmp:
        kernel = Kernel(tmp)
        try:
            kernel.execute(SETUP)
            for _ in range(args.repeats):
                kernel.execute(STALL)
                msg_id = kernel.client.execute("%%mira --mode simple\nwhat is this?")
                time.sleep(1.0)
                start = time.monotonic()
                kernel.manager.interrupt_kernel()
                kernel.wait(msg_id, timeout=30)
                latencies.append(time.monotonic() - start)
            _, out = kernel.execute(
                "h = %mira history -n 100\nprint((h['status'] == 'cancelled').sum())"
            )
            cancelled = int(kernel.text_of(out).strip())
        finally:
            kernel.shutdown()
    print(f"kernel interrupt → cell finished ({args.repeats} runs):")
    print(f"  median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms   (target < 1000 ms)")
    print(f"  operations logged as cancelled: {cancelled} of {args.repeats}")


if __name__ == "__main__":
    main()
