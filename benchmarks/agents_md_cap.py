"""Cost of loading a pathological AGENTS.md (one 256 KB "word": BPE's slow case) once the
tokenizer is warm, as every operation start and ``%mira status`` pays it; and a normal one.

Since r19b F10 the file is cut to ``max_tokens * CHARS_PER_TOKEN`` characters before it is
tokenized. Prints the median of ``--runs``. Usage: python benchmarks/agents_md_cap.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mira_jupyter.engine.instructions import load_instructions
from mira_jupyter.llm.tokens import get_encoding
from mira_jupyter.tools.sandbox import Sandbox

CASES = {
    "256 KB without a space": "a" * 256 * 1024,
    "256 KB of English": "Use descriptive names for everything. " * 7000,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    get_encoding().encode("warm")
    for label, text in CASES.items():
        root = Path(tempfile.mkdtemp(prefix="mira-agents-bench-"))
        (root / "AGENTS.md").write_text(text)
        sandbox = Sandbox(root)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            got = load_instructions(sandbox)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{label}: {statistics.median(times):,.1f} ms ({got.status_line()})")


if __name__ == "__main__":
    main()
