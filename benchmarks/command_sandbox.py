"""Overhead of running a command inside the bubblewrap sandbox, next to the bare command.

    python benchmarks/command_sandbox.py [--repeats 30] [--files 300] [--hold-mb 0] [--no-kernel]

Three figures for `/bin/true` and for `python -c pass` (the kernel's interpreter):
- bare: subprocess.run of the command itself;
- bwrap: the same under the sandbox's bwrap command line, with its rlimits, pids cgroup (as
  root) and output capture (`run_confined`), i.e. the cost of the confinement alone;
- run_command: the whole tool, which also scans the project before and after (for undo and
  for the read-only/hidden binds), on a project of `--files` small files.
Target: run_command ≤ 50 ms over the bare command (median). The bare and bwrap figures run
the very program run_command runs (`python` looked up on the sandbox's PATH, as the tool does),
with the sandbox's environment. `--hold-mb` makes this process hold that much memory first,
as a kernel holding data does (what a fork of the kernel costs grows with it).

Then the scratch kernel's run_code (`pass`): the first call of a session (starting the
sandboxed ipykernel, `--kernels` fresh hosts) and warm calls (the kernel reused), beside the
bare command's baseline; and, for reference, a bare (unsandboxed) jupyter_client kernel's
start and warm execute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mira_jupyter.tools import commands  # noqa: E402
from mira_jupyter.tools.bwrap import Layout, build_argv, check_available, sandbox_env  # noqa: E402
from mira_jupyter.tools.command_run import CommandLimits, run_confined  # noqa: E402
from mira_jupyter.tools.commands import CommandSettings, run_command  # noqa: E402
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.run_code import run_code  # noqa: E402
from mira_jupyter.tools.sandbox import Sandbox  # noqa: E402
from mira_jupyter.tools.scratch_host import ScratchHost  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402


def _median_ms(func, repeats: int) -> tuple[float, float]:
    func()  # warm the page cache
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--kernels", type=int, default=5, help="fresh scratch kernels for the first-call figure")
    parser.add_argument("--hold-mb", type=int, default=0, help="memory this process holds, like a kernel's data")
    parser.add_argument("--no-kernel", action="store_true", help="skip the scratch kernel's figures")
    args = parser.parse_args()
    held = bytearray(args.hold_mb * 1024 * 1024)
    for i in range(0, len(held), 4096):  # touched: resident, as a kernel's data is
        held[i] = 1
    available = check_available()
    if not available.ok:
        sys.exit(f"cannot measure: {available.reason}")
    with tempfile.TemporaryDirectory(prefix="mira-bench-cmd-") as tmp:
        root = Path(tmp) / "proj"
        (root / "pkg").mkdir(parents=True)
        (root / ".git").mkdir()
        for i in range(args.files):
            (root / "pkg" / f"m{i:04}.py").write_text(f"def f{i}():\n    return {i}\n" * 20)
        sandbox = Sandbox(root)
        ctx = ToolContext(sandbox=sandbox, extra={"commands": CommandSettings(frozenset({"true", "python"}))})
        env = sandbox_env(os.environ)
        layout = Layout(str(sandbox.root), read_only=[".git"])
        print(f"load average {os.getloadavg()[0]:.1f}; {args.files} files in the project; {args.hold_mb} MB held; "
              f"{args.repeats} runs each; pids cgroup: {available.pids_cgroup or 'none (not root)'}")  # fmt: skip
        print(f"{'command':<18} {'bare':>14} {'bwrap':>14} {'run_command':>14}  overhead of run_command")
        python = shutil.which("python", path=env["PATH"])
        for name, argv in (("/bin/true", ["/bin/true"]), ("python -c pass", [os.path.realpath(python), "-c", "pass"])):
            bare = _median_ms(lambda argv=argv: subprocess.run(argv, cwd=root, env=env, check=True), args.repeats)
            confined = _median_ms(
                lambda argv=argv: run_confined(build_argv(available.bwrap, layout, argv, env), CommandLimits(),
                                               pids_cgroup=available.pids_cgroup),  # fmt: skip
                args.repeats,
            )
            tool_argv = ["true"] if argv[0] == "/bin/true" else ["python", "-c", "pass"]
            own: list[float] = []  # the tool's time outside the sandboxed process: scans, layout, records
            tool = _median_ms(lambda a=tool_argv, own=own: _timed_tool(ctx, a, own), args.repeats)
            print(
                f"{name:<18} {bare[0]:>8.1f} ms    {confined[0]:>8.1f} ms    {tool[0]:>8.1f} ms   "
                f"+{tool[0] - bare[0]:.1f} ms (bwrap alone +{confined[0] - bare[0]:.1f} ms, mira's own "
                f"{statistics.median(own[1:]):.1f} ms; target ≤ 50)"
            )
        if not args.no_kernel:
            _scratch_kernel(sandbox, args)


def _timed_tool(ctx: ToolContext, argv: list[str], own: list[float]) -> None:
    """One run_command; appends its time outside run_confined (Mira's own work) to `own`."""
    inside: list[float] = []
    real = commands.run_confined

    def timed(*a, **kw):
        started = time.perf_counter()
        try:
            return real(*a, **kw)
        finally:
            inside.append(time.perf_counter() - started)

    commands.run_confined = timed
    started = time.perf_counter()
    try:
        dispatch({"run_command": run_command}, "run_command", {"argv": argv}, ctx)
    finally:
        commands.run_confined = real
    own.append((time.perf_counter() - started - sum(inside)) * 1000)


def _bare_kernel(repeats: int) -> tuple[float, float]:
    """A plain jupyter_client kernel (no sandbox): start to ready, and a warm execute."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel()
    start_ms = (time.perf_counter() - started) * 1000
    try:
        warm = _median_ms(lambda: client.execute_interactive("pass", timeout=30), repeats)[0]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return start_ms, warm


def _scratch_kernel(sandbox: Sandbox, args: argparse.Namespace) -> None:
    """run_code's first call (a new sandboxed kernel) and warm calls, beside the baselines."""
    firsts = []
    for _ in range(args.kernels):
        host = ScratchHost()
        ctx = ToolContext(sandbox=sandbox, extra={"scratch": host})
        started = time.perf_counter()
        dispatch({"run_code": run_code}, "run_code", {"code": "pass"}, ctx)
        firsts.append((time.perf_counter() - started) * 1000)
        if len(firsts) < args.kernels:
            host.close()
    warm = _median_ms(lambda: dispatch({"run_code": run_code}, "run_code", {"code": "pass"}, ctx), args.repeats)
    host.close()
    bare_start, bare_warm = _bare_kernel(args.repeats)
    bare_cmd = _median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeats)[0]
    print(f"{'run_code':<18} {'first call':>14} {'warm call':>14}")
    print(
        f"{'scratch kernel':<18} {statistics.median(firsts):>8.1f} ms    {warm[0]:>8.1f} ms   "
        f"(first: median of {args.kernels} new kernels, min {min(firsts):.1f} ms; warm min {warm[1]:.1f} ms)"
    )
    print(
        f"{'baselines':<18} {bare_start:>8.1f} ms    {bare_warm:>8.1f} ms   "
        f"(a bare jupyter_client kernel's start and execute; bare python -c pass {bare_cmd:.1f} ms)"
    )


if __name__ == "__main__":
    main()
