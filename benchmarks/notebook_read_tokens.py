"""Tokens the model pays to read real notebooks: read_file's cell view against the raw JSON.

The notebooks are real, executed notebooks with outputs (images, widget state, errors,
LaTeX) that this project did not write: the test and docs notebooks shipped in the sdists
of nbconvert and nbval, fetched from PyPI with pip (once, into a cache directory). Each is
read in full through the real read_file tool (continuing while it says "call again") and
the tokens of what the model receives are counted with o200k_base.

    .venv/bin/python benchmarks/notebook_read_tokens.py [--cache DIR]

Target (issue 11): at least 90% fewer tokens than the raw JSON, over the corpus.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDISTS = ["nbconvert==7.17.2", "nbval==0.11.0"]
TARGET = 0.90


def fetch(cache: Path) -> list[Path]:
    """Download the sdists (if not cached) and extract their notebooks that have outputs."""
    cache.mkdir(parents=True, exist_ok=True)
    for spec in SDISTS:
        name = spec.split("==")[0]
        if not list(cache.glob(f"{name}-*.tar.gz")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "--dest", str(cache), spec],
                check=True,
            )  # fmt: skip
    corpus = cache / "corpus"
    notebooks = []
    for archive in sorted(cache.glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if not member.name.endswith(".ipynb") or not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                try:
                    nb = json.loads(data)
                except ValueError:
                    continue
                if not any(c.get("outputs") for c in nb.get("cells", [])):
                    continue  # only notebooks with outputs
                target = corpus / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                notebooks.append(target)
    return notebooks


def read_all(sandbox, rel: str) -> str:
    """Everything the model receives when it reads `rel` to the end with read_file."""
    from mira_jupyter.tools.registry import file_tools
    from mira_jupyter.tools.types import ToolContext

    read_file = file_tools()["read_file"]
    ctx = ToolContext(sandbox=sandbox)
    texts, start = [], 1
    while True:
        result = read_file.func(read_file.args_model(path=rel, start_line=start), ctx)
        texts.append(result.to_model_text())
        if not result.truncated:
            return "\n".join(texts)
        start = result.content["end_line"] + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "mira-notebook-corpus")
    args = parser.parse_args()
    from mira_jupyter.llm.tokens import count_tokens
    from mira_jupyter.tools.policy import Limits
    from mira_jupyter.tools.sandbox import Sandbox

    notebooks = fetch(args.cache)
    root = args.cache / "corpus"
    # the limits the engine gives the executor (see Engine._new_run)
    sandbox = Sandbox(root, limits=Limits(max_read_bytes=12_000, max_lines=400))
    raw_total = view_total = 0
    print(f"{'notebook':62} {'raw JSON':>9} {'read_file':>9} {'fewer':>6}")
    for path in notebooks:
        rel = path.relative_to(root).as_posix()
        raw = count_tokens(path.read_text(encoding="utf-8"))
        view = count_tokens(read_all(sandbox, rel))
        raw_total += raw
        view_total += view
        print(f"{rel[-62:]:62} {raw:9,} {view:9,} {1 - view / raw:6.0%}")
    saved = 1 - view_total / raw_total
    print(f"\n{len(notebooks)} notebooks with outputs: raw JSON {raw_total:,} tokens, "
          f"read_file {view_total:,} tokens: {saved:.1%} fewer (target ≥ {TARGET:.0%})")  # fmt: skip
    return 0 if saved >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
