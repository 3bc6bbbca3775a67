"""grep_files against the ripgrep command line on the same tree, and a ReDoS pattern.

    python benchmarks/grep_speed.py [--tree DIR] [--repeats 5]

The default tree is this interpreter's site-packages (hundreds of MB of real third-party
files). Each search runs once to warm the page cache, then `--repeats` times with the
variants interleaved (so load on a shared machine hits them alike); medians are printed and
the ratio is the median of the paired ratios. The command-line baseline is `rg --json` with the flags grep_files passes (so the
same files are searched), output read and discarded; plain `rg -n` is shown for reference.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import python_root  # noqa: E402

from mira_jupyter.tools import grep  # noqa: E402
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.registry import file_tools  # noqa: E402
from mira_jupyter.tools.sandbox import Sandbox  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402

PATTERNS = [
    (r"def __init__\(self", False),
    (r"class \w+Error\(", False),
    (r"asyncio\.gather", False),
    (r"deprecated", True),
]
REDOS = "(a+)+$"


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired(fns: list, repeats: int) -> list[list[float]]:
    """Interleaved timings (so load on a shared machine hits every variant alike)."""
    for fn in fns:
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
    return samples


def rg_command_line(rg: str, root: Path, pattern: str, ci: bool, sandbox: Sandbox) -> list[str]:
    """The ripgrep command grep_files builds, as a user would type it."""
    from mira_jupyter.tools.grep_hits import COUNT_FACTOR
    from mira_jupyter.tools.rg_args import rg_command

    limits = sandbox.limits
    return rg_command(
        rg,
        pattern=pattern,
        case_insensitive=ci,
        context_lines=0,
        include_ignored=False,
        secret_names=sandbox.secret_names,
        glob=None,
        max_count=limits.max_matches * COUNT_FACTOR,
        max_filesize=limits.max_grep_filesize,
        target=".",
    )


def run_cli(cmd: list[str], cwd: Path) -> None:
    """Run a command and discard its output (read fully, as grep_files does)."""
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)


def pathological(repeats: int) -> list[tuple[str, float, str]]:
    """Time `(a+)+$` on long runs of 'a' ending in '!' (and one that matches), both engines."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # 2.5 MB: under the 4 MiB --max-filesize, so the file really is searched
        (root / "evil.txt").write_text(("a" * 5000 + "!\n") * 500 + "a" * 5000 + "\n")
        ctx = ToolContext(sandbox=Sandbox(root))
        tools = file_tools()
        for engine in ("ripgrep", "re2"):
            if engine == "re2":
                grep.find_rg = lambda: None  # type: ignore[assignment]
            seconds = timed(
                lambda: dispatch(tools, "grep_files", {"pattern": REDOS}, ctx), repeats
            )
            result = dispatch(tools, "grep_files", {"pattern": REDOS}, ctx)
            rows.append(
                (engine, seconds, f"{result.status}, {result.content.get('match_count')} matches")
            )
    return rows


def python_re_contrast() -> list[tuple[int, float]]:
    """Python's backtracking `re` on the same pattern, short inputs, in a killable child."""
    out = []
    for n in (18, 20, 22, 24):
        code = f"import re,time;t=time.perf_counter();re.search({REDOS!r},'a'*{n}+'!');print(time.perf_counter()-t)"
        try:
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
            )
            out.append((n, float(done.stdout.strip())))
        except subprocess.TimeoutExpired:
            out.append((n, float("inf")))
    return out


def main() -> None:
    """Print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", type=Path, default=python_root())
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rg = grep.find_rg()
    if rg is None:
        raise SystemExit("the ripgrep binary is not installed")
    root = args.tree.resolve()
    sandbox = Sandbox(root)
    ctx = ToolContext(sandbox=sandbox)
    tools = file_tools()
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink())
    print(
        f"tree: {len(list(root.rglob('*')))} entries, {size / 1e6:.0f} MB, {os.cpu_count()} cores\n"
    )
    print("| pattern | grep_files | rg --json (same flags) | ratio | rg -n (plain) | matches |")
    print("|---|---|---|---|---|---|")
    for pattern, ci in PATTERNS:
        tool_args = {"pattern": pattern, "case_insensitive": ci}
        cli = rg_command_line(rg, root, pattern, ci, sandbox)
        plain = [rg, "-n", *(["-i"] if ci else []), "-e", pattern, "--", "."]
        ours, theirs, bare = paired(
            [
                lambda a=tool_args: dispatch(tools, "grep_files", a, ctx),
                lambda c=cli: run_cli(c, root),
                lambda c=plain: run_cli(c, root),
            ],
            args.repeats,
        )
        ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
        count = dispatch(tools, "grep_files", tool_args, ctx).content["match_count"]
        label = f"`{pattern}`" + (" (-i)" if ci else "")
        print(
            f"| {label} | {statistics.median(ours) * 1000:.0f} ms | {statistics.median(theirs) * 1000:.0f} ms "
            f"| {ratio:.2f}x | {statistics.median(bare) * 1000:.0f} ms | {count} |"
        )
    print("\n| ReDoS `(a+)+$`, 500 lines of 5000 'a' + '!', one of 5000 'a' | time | result |")
    print("|---|---|---|")
    for engine, seconds, what in pathological(args.repeats):
        print(f"| grep_files ({engine}) | {seconds * 1000:.1f} ms | {what} |")
    print("\n| Python `re` (not used), one line of n 'a' + '!' | time |")
    print("|---|---|")
    for n, seconds in python_re_contrast():
        print(f"| n = {n} | {seconds:.2f} s |")


if __name__ == "__main__":
    main()
