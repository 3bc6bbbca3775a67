"""read_file, summarize_file, extract_symbols and grep_files on ``.ipynb`` files.

`notebook_aware` wraps each of those tools (in the registry): a notebook is handled here. A file that nbformat cannot read (broken JSON, a
different format under the same suffix) returns None, and the tool reads it as the text file
it is, so nothing becomes unreadable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import notebooks
from .base import sandbox_of
from .sandbox import Sandbox, SandboxDenied
from .types import ToolContext, ToolResult


def load(sandbox: Sandbox, path: str) -> tuple[Any, str] | None:
    """The notebook at `path` (v4) and its root-relative path, or None if it is not one."""
    if not notebooks.is_notebook(path):
        return None
    with sandbox.open_read(path) as (handle, stat, res):
        if stat.st_size > notebooks.MAX_NOTEBOOK_BYTES:
            raise SandboxDenied(
                "too_large",
                f"{res.rel} is {stat.st_size:,} bytes, over the {notebooks.MAX_NOTEBOOK_BYTES:,}-byte notebook cap",
            )
        data = handle.read()
    try:
        return notebooks.parse(data), res.rel
    except notebooks.NotebookError:
        return None


def read(sandbox: Sandbox, path: str, start_line: int | None, end_line: int | None) -> ToolResult | None:
    """read_file on a notebook: the cell view, with the same line range and caps as text."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    nb, rel = loaded
    limits = sandbox.limits
    lines = notebooks.render(nb).splitlines(keepends=True)
    start = start_line or 1
    last = len(lines) if end_line is None else min(end_line, len(lines))
    out: list[str] = []
    size = 0
    capped = False
    for line in lines[start - 1 : last]:
        encoded = len(line.encode("utf-8"))
        if len(out) >= limits.max_lines or size + encoded > limits.max_read_bytes:
            capped = True
            break
        out.append(line)
        size += encoded
    content: dict[str, Any] = {
        "path": rel,
        "format": "notebook (cells via nbformat; outputs as capped text, images as placeholders)",
        "content": "".join(out),
        "total_lines": len(lines),
        "cells": len(nb.cells),
    }
    if out:
        content["start_line"] = start
        content["end_line"] = start + len(out) - 1
    elif start > len(lines):
        content["notice"] = f"start_line {start} is past the end of the notebook view ({len(lines)} lines)"
    if capped:
        content["notice"] = (
            f"truncated at {limits.max_lines} lines / {limits.max_read_bytes} bytes of the notebook "
            f"view: call again with start_line={start + len(out)}"
        )
    return ToolResult.ok(truncated=capped, **content)


def summarize(sandbox: Sandbox, path: str) -> ToolResult | None:
    """summarize_file on a notebook: headings, imports and defined names of each cell."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    nb, rel = loaded
    found = notebooks.summary(nb)
    cells = found["cells"]
    shown = cells[:80]
    content: dict[str, Any] = {"path": rel, "language": "notebook", **found, "cells": shown}
    if len(cells) > len(shown):
        content["notice"] = f"first {len(shown)} of {len(cells)} cells summarised"
    return ToolResult.ok(truncated=len(cells) > len(shown), **content)


def extract(sandbox: Sandbox, path: str) -> ToolResult | None:
    """extract_symbols on a notebook: defs and classes of the code cells, with cell ids."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    nb, rel = loaded
    from .symbols import analyze
    from .symbols_degrade import OUTLINE_BUDGET

    found = notebooks.symbols(nb, analyze)
    shown: list[str] = []
    size = 0
    for line in found:  # whole lines under the same result budget as a source file's outline
        size += len(line) + 4
        if size > OUTLINE_BUDGET:
            break
        shown.append(line)
    content: dict[str, Any] = {
        "path": rel,
        "language": "notebook (python cells)",
        "count": len(found),
        "symbols": shown,
        "format": "cell N (id ID) start-end kind name; lines are within the cell",
    }
    if len(found) > len(shown):
        content["notice"] = f"first {len(shown)} of {len(found)} symbols"
    return ToolResult.ok(truncated=len(found) > len(shown), **content)


# every notebook's JSON holds this key once: a search for it lists the notebooks in a
# grep's scope (same path, glob, ignore rules and size limit as the search itself)
_NOTEBOOK_MARKER = '"nbformat_minor"'


def regrep(
    sandbox: Sandbox,
    matches: list[dict[str, Any]],
    pattern: str,
    case_insensitive: bool,
    context: int,
    scope: tuple[str, ...] | list[str] = (),
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """Replace grep's JSON-line matches in notebooks by matches in their cells.

    The search engine sees a notebook's JSON (escaped sources, base64 images), so `^def`,
    `sep="` or a tab never match there: every notebook in `scope` and every one the engine
    matched is searched again, cell by cell, with RE2 (linear time, like the engine).
    Returns the new match list, how the total changes, and notes for the result.
    """
    by_file: dict[str, int] = {rel: 0 for rel in scope}
    for match in matches:
        if notebooks.is_notebook(match["file"]):
            by_file[match["file"]] = by_file.get(match["file"], 0) + 1
    if not by_file:
        return matches, 0, []
    import re2

    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not case_insensitive
    try:
        regex = re2.compile(pattern, options)
    except re2.error:
        return matches, 0, []
    kept = [m for m in matches if m["file"] not in by_file]
    delta = 0
    outputs_only: list[str] = []
    for rel, count in by_file.items():
        try:
            loaded = load(sandbox, rel)
        except (SandboxDenied, OSError):
            loaded = None
        if loaded is None:  # not readable as a notebook: keep what the engine found
            kept += [m for m in matches if m["file"] == rel]
            continue
        found = notebooks.grep_cells(loaded[0], regex, context, sandbox.limits.max_line_chars)
        if count and not found:
            outputs_only.append(rel)
        kept += [{"file": rel, **m} for m in found]
        delta += len(found) - count
    notes = []
    if outputs_only:
        shown = ", ".join(outputs_only[:5]) + (" …" if len(outputs_only) > 5 else "")
        notes.append(
            f"matched only outside cell sources (outputs or metadata, not searched): {shown}; "
            "read_file shows a notebook's outputs"
        )
    return kept, delta, notes


def notebooks_in_scope(search: Callable[[Any, ToolContext], ToolResult], args: Any, ctx: ToolContext) -> tuple[list[str], bool]:
    """The notebooks a grep with `args` covers, found by the same search (so the same path,
    glob and ignore rules), and whether the list is complete."""
    if notebooks.is_notebook(args.path):
        return [args.path], True
    probe = args.model_copy(update={"pattern": _NOTEBOOK_MARKER, "case_insensitive": False, "context_lines": 0})
    result = search(probe, ctx)
    if result.status != "ok":
        return [], True
    files = sorted({m["file"] for m in result.content.get("matches") or [] if notebooks.is_notebook(m["file"])})
    return files, not result.truncated


def notebook_aware(name: str, func: Callable[[Any, ToolContext], ToolResult]) -> Callable[[Any, ToolContext], ToolResult]:
    """`func` (a file tool) with notebooks shown as cells instead of JSON."""

    def read_tool(args: Any, ctx: ToolContext) -> ToolResult:
        if args.end_line is None or args.end_line >= (args.start_line or 1):
            found = read(sandbox_of(ctx), args.path, args.start_line, args.end_line)
            if found is not None:  # cells, capped outputs, image placeholders: never raw JSON
                return found
        return func(args, ctx)

    def summary_tool(args: Any, ctx: ToolContext) -> ToolResult:
        return summarize(sandbox_of(ctx), args.path) or func(args, ctx)

    def symbols_tool(args: Any, ctx: ToolContext) -> ToolResult:
        return extract(sandbox_of(ctx), args.path) or func(args, ctx)

    def grep_tool(args: Any, ctx: ToolContext) -> ToolResult:
        result = func(args, ctx)
        if result.status != "ok":
            return result
        matches = result.content.get("matches") or []
        scope, complete = notebooks_in_scope(func, args, ctx)
        # a notebook's hits are reported by cell id and line within the cell, not JSON line
        new, delta, notes = regrep(
            sandbox_of(ctx), matches, args.pattern, args.case_insensitive, args.context_lines, scope
        )
        if not complete:
            notes.append("only the first notebooks of this directory were searched cell by cell; narrow the path")
        if delta or new is not matches:
            new.sort(key=lambda m: (m["file"], m.get("cell", 0), m["line"]))
            result.content["matches"] = new
            count = result.content.get("match_count")
            if isinstance(count, int):
                result.content["match_count"] = count + delta
            result.content["file_count"] = len({m["file"] for m in new})
        if notes:
            result.content["warnings"] = [*result.content.get("warnings", []), *notes]
        return result

    wrappers = {"read_file": read_tool, "summarize_file": summary_tool, "extract_symbols": symbols_tool, "grep_files": grep_tool}
    # the wrapped tool's signature, annotations and docstring (what @tool and its tests read)
    return functools.wraps(func)(wrappers[name])
