"""How many tokens summarize_file and extract_symbols save against read_file.

    python benchmarks/token_savings.py [--per-corpus 60] [--cache DIR] [--json out.json]

For every sampled file of three real third-party corpora (see corpora.py), both files of
200+ lines and small files of 30-199 lines, the three tools run through the real dispatcher
and sandbox; the text the model would receive (``ToolResult.to_model_text()``) is counted
with tiktoken's o200k_base. Savings are against two baselines: read_file with caps high
enough to return the whole file (uncapped), and read_file with the engine's real caps (400
lines, 12,000 bytes), which is what the model gets instead of a summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import (  # noqa: E402
    _is_test,
    corpora,
    default_cache,
    line_count,
    python_files,
    relative,
)

from mira_jupyter.llm.tokens import count_tokens  # noqa: E402
from mira_jupyter.tools.dispatch import dispatch  # noqa: E402
from mira_jupyter.tools.registry import file_tools  # noqa: E402
from mira_jupyter.tools.sandbox import Limits, Sandbox  # noqa: E402
from mira_jupyter.tools.types import ToolContext  # noqa: E402

WHOLE_FILE = Limits(max_read_bytes=64 * 1024 * 1024, max_lines=10**7, max_line_chars=10**6)
# what the model really gets: the engine caps read_file at 400 lines and (16,000 - 4,000) bytes
ENGINE_READ = Limits(max_read_bytes=12_000, max_lines=400)


def measure(root: Path, files: list[Path]) -> list[dict[str, object]]:
    """Token counts of the three tools' outputs for each file."""
    tools = file_tools()
    ctx = ToolContext(sandbox=Sandbox(root, limits=WHOLE_FILE))
    capped_ctx = ToolContext(sandbox=Sandbox(root, limits=ENGINE_READ))
    rows = []
    for path in files:
        rel = relative(root, path)
        results = {
            name: dispatch(tools, name, {"path": rel}, ctx)
            for name in ("read_file", "summarize_file", "extract_symbols")
        }
        if any(r.status != "ok" for r in results.values()) or results["read_file"].truncated:
            continue
        read = count_tokens(results["read_file"].to_model_text())
        capped = count_tokens(dispatch(tools, "read_file", {"path": rel}, capped_ctx).to_model_text())
        raw = count_tokens(results["read_file"].content["content"])
        summary = count_tokens(results["summarize_file"].to_model_text())
        symbols = count_tokens(results["extract_symbols"].to_model_text())
        rows.append(
            {
                "file": rel,
                "lines": results["summarize_file"].content["lines"],
                "read": read,
                "raw": raw,
                "summary": summary,
                "symbols": symbols,
                "capped_read": capped,
                "summary_saving_capped": 1 - summary / capped,
                "symbols_saving_capped": 1 - symbols / capped,
                "summary_saving": 1 - summary / read,
                "symbols_saving": 1 - symbols / read,
                "summary_saving_raw": 1 - summary / raw,
                "symbols_saving_raw": 1 - symbols / raw,
            }
        )
    return rows


def small_files(root: Path, corpus: str, limit: int) -> list[Path]:
    """Non-test files of 30-199 lines from the same corpus, evenly sampled to `limit`."""
    if corpus == "python":
        candidates = python_files()
    else:
        ext = {"rust": ".rs", "typescript": ".ts"}[corpus]
        candidates = [p for p in root.rglob(f"*{ext}") if not p.name.endswith(".d.ts")]
    found = sorted(p for p in candidates if not _is_test(p) and 30 <= line_count(p) < 200)
    step = max(1, len(found) // limit)
    return found[::step][:limit]


def report(name: str, rows: list[dict[str, object]]) -> dict[str, object]:
    """Medians for one corpus."""

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]

    return {
        "corpus": name,
        "files": len(rows),
        "median_lines": med("lines"),
        "median_read_tokens": med("read"),
        "median_summary_tokens": med("summary"),
        "median_symbols_tokens": med("symbols"),
        "median_summary_saving_pct": 100 * med("summary_saving"),
        "median_symbols_saving_pct": 100 * med("symbols_saving"),
        "median_summary_saving_vs_raw_pct": 100 * med("summary_saving_raw"),
        "median_symbols_saving_vs_raw_pct": 100 * med("symbols_saving_raw"),
        "median_capped_read_tokens": med("capped_read"),
        "median_summary_saving_capped_pct": 100 * med("summary_saving_capped"),
        "median_symbols_saving_capped_pct": 100 * med("symbols_saving_capped"),
        "min_summary_saving_pct": 100 * min(float(r["summary_saving"]) for r in rows),  # type: ignore[arg-type]
        "min_symbols_saving_pct": 100 * min(float(r["symbols_saving"]) for r in rows),  # type: ignore[arg-type]
    }


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-corpus", type=int, default=60)
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--json", type=Path, default=None, help="also write per-file rows here")
    args = parser.parse_args()

    summaries, everything = [], []
    for name, (root, files) in corpora(args.cache, args.per_corpus).items():
        rows = measure(root, files)
        everything.extend(rows)
        summaries.append(report(name, rows))
        small = measure(root, small_files(root, name, args.per_corpus))
        if small:
            summaries.append(report(f"{name} (30-199 lines)", small))
    summaries.append(report("all 200+", everything))

    print(
        "| corpus | files | median lines | read_file uncapped / capped | summarize_file | extract_symbols "
        "| summary saving uncapped / capped | symbols saving uncapped / capped | worst file (uncapped) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for s in summaries:
        print(
            f"| {s['corpus']} | {s['files']} | {s['median_lines']:.0f} "
            f"| {s['median_read_tokens']:.0f} / {s['median_capped_read_tokens']:.0f} "
            f"| {s['median_summary_tokens']:.0f} | {s['median_symbols_tokens']:.0f} "
            f"| {s['median_summary_saving_pct']:.1f}% / {s['median_summary_saving_capped_pct']:.1f}% "
            f"| {s['median_symbols_saving_pct']:.1f}% / {s['median_symbols_saving_capped_pct']:.1f}% "
            f"| {s['min_summary_saving_pct']:.1f}% / {s['min_symbols_saving_pct']:.1f}% |"
        )
    if args.json:
        args.json.write_text(json.dumps({"summary": summaries, "files": everything}, indent=1))


if __name__ == "__main__":
    main()
