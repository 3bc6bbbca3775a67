"""Overhead of running a command inside the bubblewrap sandbox, next to the bare command.

    python benchmarks/command_sandbox.py [--repeats 30] [--files 300]

Three figures for `/bin/true` and for `python -c pass` (the kernel's interpreter):
- bare: subprocess.run of the command itself;
- bwrap: the same under the sandbox's bwrap command line, with its rlimits, pids cgroup (as
  root) and output capture (`run_confined`), i.e. the cost of the confinement alone;
- run_command: the whole tool, which also scans the project before and after (for undo and
  for the read-only/hidden binds), on a project of `--files` small files.
Target: run_command ≤ 50 ms over the bare command (median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mira_jupyter.tools.bwrap import Layout, build_argv, check_available, sandbox_env  # noqa: E402
from mira_jupyter.tools.command_run import CommandLimits, run_confined  # noqa: E402
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.sandbox import Sandbox  # noqa: E402
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
    args = parser.parse_args()
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
        print(f"load average {os.getloadavg()[0]:.1f}; {args.files} files in the project; "
              f"{args.repeats} runs each; pids cgroup: {available.pids_cgroup or 'none (not root)'}")  # fmt: skip
        print(f"{'command':<18} {'bare':>14} {'bwrap':>14} {'run_command':>14}  overhead of run_command")
        for name, argv in (("/bin/true", ["/bin/true"]), ("python -c pass", [sys.executable, "-c", "pass"])):
            bare = _median_ms(lambda argv=argv: subprocess.run(argv, cwd=root, check=True), args.repeats)
            confined = _median_ms(
                lambda argv=argv: run_confined(build_argv(available.bwrap, layout, argv, env), CommandLimits(),
                                               pids_cgroup=available.pids_cgroup),  # fmt: skip
                args.repeats,
            )
            tool_argv = ["true"] if argv[0] == "/bin/true" else ["python", "-c", "pass"]
            tool = _median_ms(lambda a=tool_argv: dispatch({"run_command": run_command}, "run_command", {"argv": a}, ctx), args.repeats)
            print(
                f"{name:<18} {bare[0]:>8.1f} ms    {confined[0]:>8.1f} ms    {tool[0]:>8.1f} ms   "
                f"+{tool[0] - bare[0]:.1f} ms (bwrap alone +{confined[0] - bare[0]:.1f} ms; target ≤ 50)"
            )


if __name__ == "__main__":
    main()
