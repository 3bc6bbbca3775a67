"""Time from a new operation's OperationStarted to its widget's display message being sent.

Runs inside an in-process IPython kernel (a real ZMQInteractiveShell: widgets open comms and
``display`` publishes a display_data message on iopub), with no model involved. "First paint"
ends when the display_data message for the widget has been handed to the kernel session.

- cold: the first operation of a fresh kernel process, so it pays for importing ipywidgets
  (median over fresh processes);
- warm: later operations in the same kernel (median over repeats).

Usage: python benchmarks/widget_first_paint.py [--repeats 50] [--cold-runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
from ipykernel.inprocess.manager import InProcessKernelManager

manager = InProcessKernelManager()
manager.start_kernel()
shell = manager.kernel.shell
sent = []
session_send = manager.kernel.session.send

def send(stream, msg_or_type, *args, **kwargs):
    result = session_send(stream, msg_or_type, *args, **kwargs)
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type["header"]["msg_type"]
    if kind == "display_data":
        sent.append(time.perf_counter())
    return result

manager.kernel.session.send = send
from mira_jupyter.ui.demo import planned_operation

started = planned_operation(5)[0]
samples = []
for _ in range(int(sys.argv[1])):
    sent.clear()
    t0 = time.perf_counter()
    from mira_jupyter.ui.widget import OperationWidget  # cold: this is the ipywidgets import

    view = OperationWidget(schedule=None)
    view(started)
    assert sent, "no display_data message was sent"
    samples.append((sent[0] - t0) * 1000)
    view.close()
print(json.dumps(samples))
"""


def run(repeats: int) -> list[float]:
    """Run the probe in a fresh process; returns its samples in milliseconds."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(repeats)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the cold and warm medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=7)
    args = parser.parse_args()
    cold = [run(1)[0] for _ in range(args.cold_runs)]
    warm = run(args.repeats + 1)[1:]
    print("widget first paint: OperationStarted -> display_data sent (in-process kernel)")
    print(
        f"  cold (first operation, imports ipywidgets; median of {len(cold)} processes): "
        f"{statistics.median(cold):.1f} ms"
    )
    print(
        f"  warm (later operations; median of {len(warm)}): {statistics.median(warm):.1f} ms"
        f"   (p90 {statistics.quantiles(warm, n=10)[-1]:.1f} ms; target < 50 ms)"
    )


if __name__ == "__main__":
    main()
