"""How long the ranked repo map takes to rebuild on a 2,000-file project, cold and warm.

    python benchmarks/repo_map_speed.py [PROJECT_DIR] [--files 2000] [--cache DIR] [--runs 5]

Without PROJECT_DIR the project is assembled from real Go and Python sources fetched with the
registries' clients (Debian golang-golang-x-tools-dev, golang-golang-x-net-dev,
golang-google-grpc-dev, the sqlalchemy sdist; see ctags_corpora.py), copied into one tree
of exactly --files files. Cold: a new map (every file parsed). Warm: the same map again, with
nothing changed (the same request, which is answered from the ranking cache, and a new request
each run, which is ranked and rendered again) and with one file touched. Target: warm <= 200 ms. Baseline: the snapshot it
replaces (list_files of the first 60 files + README head) on the same tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ctags_corpora import Source, fetch  # noqa: E402

from mira_jupyter.llm.tokens import count_tokens  # noqa: E402
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.registry import file_tools  # noqa: E402
from mira_jupyter.tools.repo_map import RepoMap  # noqa: E402
from mira_jupyter.tools.sandbox import Sandbox  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402

SOURCES = [
    Source("deb", "golang-golang-x-tools-dev"),
    Source("deb", "golang-golang-x-net-dev"),
    Source("deb", "golang-google-grpc-dev"),
    Source("pypi", "sqlalchemy==2.1.9"),
]
REQUEST = "Fix the HTTP/2 transport so a stream reset during a request body upload is retried"
NEW_REQUESTS = [
    "Add a connection pool size limit to the SQL engine and log when it is reached",
    "The gRPC balancer picks a closed subconn after a resolver update",
    "Make the go/analysis driver report the position of the unused import",
    "Support the html tokenizer on malformed comments without panicking",
    "Speed up the ORM session flush for large batches of inserts",
]


def assemble(cache: Path, count: int) -> Path:
    """A project of `count` real source files copied from the fetched packages."""
    target = cache / f"repo-map-project-{count}"
    if (target / ".done").exists():
        return target
    files = []
    for source in SOURCES:
        root = fetch(source, cache)
        files += sorted(p for p in root.rglob("*") if p.suffix in (".go", ".py") and p.is_file())
    if len(files) < count:
        raise SystemExit(f"only {len(files)} source files fetched; fewer than {count}")
    step = len(files) / count
    for i in range(count):
        src = files[int(i * step)]
        dest = target / src.relative_to(cache)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    (target / "README.md").write_text("# assembled benchmark project\n")
    (target / ".done").touch()
    return target


CPU: dict[str, list[float]] = {}  # CPU seconds of each timed step, by label


def timed(fn, label: str = "") -> float:  # noqa: ANN001
    """Wall seconds of fn(); its CPU seconds go to CPU[label] (what load on the machine
    cannot inflate: the wall time also waits for a core while other jobs run)."""
    cpu, start = time.process_time(), time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    CPU.setdefault(label, []).append(time.process_time() - cpu)
    return wall


def main() -> None:
    """Print cold and warm rebuild times next to the 200 ms target and the old snapshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "mira-ctags-corpora"
    )
    args = parser.parse_args()
    project = args.project or assemble(args.cache, args.files)
    sandbox = Sandbox(project)
    repo_map = RepoMap(sandbox)
    cold = timed(lambda: repo_map.build(REQUEST, count_tokens=count_tokens))
    result = repo_map.build(REQUEST, count_tokens=count_tokens)
    warm = [timed(lambda: repo_map.build(REQUEST, count_tokens=count_tokens), "warm") for _ in range(args.runs)]
    # a new request each time: nothing is reused but the tags and the graph
    fresh = [
        timed(lambda i=i: repo_map.build(f"{NEW_REQUESTS[i % len(NEW_REQUESTS)]} ({i})",
                                         count_tokens=count_tokens), "fresh")
        for i in range(args.runs)
    ]  # fmt: skip
    sources = [rel for rel in result.files if rel.endswith((".go", ".py"))]
    victim = project / sources[len(sources) // 2]  # a file of middling rank, not the biggest
    touched = []
    for _ in range(args.runs):
        os.utime(victim)  # a new mtime: the file is parsed again, the rest comes from cache
        touched.append(timed(lambda: repo_map.build(REQUEST, count_tokens=count_tokens), "touched"))
    tools = file_tools()
    ctx = ToolContext(sandbox=sandbox)
    baseline = statistics.median(
        timed(lambda: dispatch(tools, "list_files", {"directory": ".", "recursive": True}, ctx))
        for _ in range(args.runs)
    )
    print(f"project: {result.total_files} files, map {result.tokens} tokens")
    print(f"cold build:                {cold * 1000:8.0f} ms")
    def cpu(label: str) -> str:
        return f"{statistics.median(CPU[label]) * 1000:6.0f} ms CPU"

    print(f"warm, nothing changed:     {statistics.median(warm) * 1000:8.0f} ms, {cpu('warm')} (median of {args.runs}, same request)")
    print(f"warm, a new request:       {statistics.median(fresh) * 1000:8.0f} ms, {cpu('fresh')} (median of {args.runs})")
    print(f"warm, one file touched:    {statistics.median(touched) * 1000:8.0f} ms, {cpu('touched')} (median of {args.runs})")
    print("target (warm):                  200 ms")
    print(f"load average (1 min) after the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"baseline list_files (old snapshot's walk): {baseline * 1000:.0f} ms")


if __name__ == "__main__":
    main()
