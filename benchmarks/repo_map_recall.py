"""Does the ranked repo map name the files a real change touched? recall@map vs first-60 files.

    python benchmarks/repo_map_recall.py REPO [REPO ...] [--commits 15] [--tokens 1500] [--json out.json]

Each REPO is a git repository with history (a bare one is fine). Labels come from its git log:
for each recent non-merge commit that touches 1-4 existing source files (extensions
extract_symbols parses; tests included, docs and changelogs not) and whose subject has at
least four words, the request is the commit message and the answer is those files. The tree
is checked out at the commit's parent (the state the request was made in) into a scratch
directory, one commit after another (so unchanged files keep their mtime and the map's cache
works as in a session). Scores:

- recall@map: the share of the answer files the map names (with definitions or in its file list);
- recall@first-60: the same for the snapshot it replaces, the first 60 files of list_files.

Targets: recall@map >= 0.7 and >= 2x the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mira_jupyter.llm.tokens import count_tokens  # noqa: E402
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.registry import file_tools  # noqa: E402
from mira_jupyter.tools.repo_map import RepoMap  # noqa: E402
from mira_jupyter.tools.sandbox import Sandbox  # noqa: E402
from mira_jupyter.tools.symbols import EXTENSIONS  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402

SKIP_SUBJECTS = ("merge", "bump", "release", "revert", "pre-commit", "[pre-commit", "update changelog")


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git on `repo` (a work tree or a bare repository) and return its output."""
    return subprocess.run(
        ["git", f"--git-dir={git_dir(repo)}", *args],
        check=True, capture_output=True, text=True, env=env,
    ).stdout  # fmt: skip


def git_dir(repo: Path) -> Path:
    """The repository's git directory."""
    return repo / ".git" if (repo / ".git").exists() else repo


def labelled_commits(repo: Path, limit: int) -> list[dict]:
    """The most recent commits usable as (request, touched files) pairs, oldest first."""
    log = git(repo, "log", "--no-merges", "--first-parent", "-n", "600", "--format=%H%x00%P%x00%B%x01")
    out = []
    for record in log.split("\x01"):
        if not record.strip():
            continue
        sha, parents, message = record.strip("\n").split("\x00", 2)
        subject = message.strip().splitlines()[0] if message.strip() else ""
        if len(parents.split()) != 1 or len(subject.split()) < 4:
            continue
        if subject.lower().startswith(SKIP_SUBJECTS):
            continue
        names = git(repo, "diff", "--name-only", "--diff-filter=M", f"{parents}", sha).split()
        touched = [n for n in names if os.path.splitext(n)[1].lower() in EXTENSIONS]
        if not 1 <= len(touched) <= 4:
            continue
        out.append({"sha": sha, "parent": parents, "request": message.strip(), "answer": touched})
        if len(out) >= limit:
            break
    return list(reversed(out))


def checkout(repo: Path, commit: str, work: Path, index: Path) -> None:
    """Make `work` the tree of `commit`, rewriting only the files that differ."""
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(
        ["git", f"--git-dir={git_dir(repo)}", f"--work-tree={work}", "read-tree", "--reset",
         "-u", commit],
        check=True, capture_output=True, env=env,
    )  # fmt: skip


def first_60(sandbox: Sandbox) -> list[str]:
    """The files the old snapshot listed: list_files' first 60."""
    tools = file_tools()
    result = dispatch(tools,
        "list_files", {"directory": ".", "recursive": True}, ToolContext(sandbox=sandbox)
    )
    return list(result.content.get("files", []))[:60]


def evaluate(repo: Path, commits: int, tokens: int) -> dict:
    """Per-commit recall of the map and of the baseline for one repository."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work, index = Path(scratch) / "tree", Path(scratch) / "index"
        work.mkdir()
        mapper = RepoMap(Sandbox(work))
        for c in labelled_commits(repo, commits):
            checkout(repo, c["parent"], work, index)
            answer = [f for f in c["answer"] if (work / f).is_file()]
            if not answer:
                continue
            result = mapper.build(c["request"], max_tokens=tokens, count_tokens=count_tokens)
            named = set(result.files)
            baseline = set(first_60(Sandbox(work)))
            rows.append({
                "sha": c["sha"][:10],
                "subject": c["request"].splitlines()[0][:80],
                "answer": answer,
                "map_recall": sum(f in named for f in answer) / len(answer),
                "baseline_recall": sum(f in baseline for f in answer) / len(answer),
                "map_tokens": result.tokens,
                "files": result.total_files,
            })  # fmt: skip
    return {"repo": repo.name if repo.name != "repo" else repo.parent.name, "rows": rows}


def main() -> None:
    """Print recall@map and recall@first-60 per repository and overall."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--commits", type=int, default=15, help="labelled commits per repository")
    parser.add_argument("--tokens", type=int, default=1500, help="the map's token budget")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--show", action="store_true", help="print every request's scores")
    args = parser.parse_args()
    results = [evaluate(repo, args.commits, args.tokens) for repo in args.repos]
    print(f"{'repository':<22} {'requests':>8} {'files':>6} {'recall@map':>10} {'recall@first-60':>15}")
    every = []
    for r in results:
        rows = r["rows"]
        every += rows
        if not rows:
            print(f"{r['repo']:<22} {0:>8}")
            continue
        m = sum(x["map_recall"] for x in rows) / len(rows)
        b = sum(x["baseline_recall"] for x in rows) / len(rows)
        print(f"{r['repo']:<22} {len(rows):>8} {rows[-1]['files']:>6} {m:>10.2f} {b:>15.2f}")
        if args.show:
            for x in rows:
                print(f"    {x['map_recall']:.2f} {x['baseline_recall']:.2f} {x['sha']} {x['subject']}")
    if every:
        m = sum(x["map_recall"] for x in every) / len(every)
        b = sum(x["baseline_recall"] for x in every) / len(every)
        ratio = f"{m / b:.1f}x" if b else "inf"
        print(f"{'all':<22} {len(every):>8} {'':>6} {m:>10.2f} {b:>15.2f}   ({ratio} the baseline)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
