"""read_file, summarize_file, extract_symbols and grep_files on ``.ipynb`` files.

`notebook_aware` wraps each of those tools (in the registry): a notebook is handled here.
A notebook with git merge-conflict markers is shown as its two sides, each read as cells. A
file that nbformat cannot read otherwise (broken JSON, a different format under the same
suffix) is read as the text file it is, so nothing becomes unreadable, but with its base64
runs replaced by placeholders: images never reach the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import notebooks
from .base import clip_line, sandbox_of
from .sandbox import Sandbox, SandboxDenied
from .types import ToolContext, ToolResult


@dataclass
class Loaded:
    """A notebook as the tools read it: one side, or the two sides of a merge conflict."""

    rel: str
    sides: list[tuple[str, Any]]  # (label, notebook); the label is "" without a conflict
    conflicts: int = 0

    @property
    def nb(self) -> Any:
        """The notebook (the first side of a conflict)."""
        return self.sides[0][1]

    def notice(self) -> str | None:
        """What a conflicted notebook's result says first."""
        if not self.conflicts:
            return None
        n = self.conflicts
        return (
            f"{self.rel} has {n} unresolved git merge conflict{'s' if n != 1 else ''}: shown as both "
            f"sides, {self.sides[0][0]} then {self.sides[1][0]}; edit_notebook refuses it until it is resolved"
        )


def load(sandbox: Sandbox, path: str) -> Loaded | None:
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
        return Loaded(res.rel, [("", notebooks.parse(data))])
    except notebooks.NotebookError:
        pass
    sides = notebooks.conflict_sides(data.decode("utf-8", "replace"))
    if sides is None:
        return None
    try:
        ours = notebooks.parse(sides.ours.encode("utf-8"))
        theirs = notebooks.parse(sides.theirs.encode("utf-8"))
    except notebooks.NotebookError:
        return None
    return Loaded(
        res.rel,
        [(f"ours ({sides.ours_label})", ours), (f"theirs ({sides.theirs_label})", theirs)],
        sides.conflicts,
    )


def _rendered(loaded: Loaded) -> str:
    if not loaded.conflicts:
        return notebooks.render(loaded.nb)
    return "\n".join(f"===== {label} =====\n{notebooks.render(nb)}" for label, nb in loaded.sides)


def read(sandbox: Sandbox, path: str, start_line: int | None, end_line: int | None) -> ToolResult | None:
    """read_file on a notebook: the cell view, with the same line range and caps as text."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    nb, rel = loaded.nb, loaded.rel
    limits = sandbox.limits
    lines = _rendered(loaded).splitlines(keepends=True)
    start = start_line or 1
    last = len(lines) if end_line is None else min(end_line, len(lines))
    out: list[str] = []
    size = 0
    capped = long_lines = False
    for line in lines[start - 1 : last]:
        # as for a text file: a pasted data literal must not block the cells after it
        line, more = clip_line(line, limits.max_line_chars)
        long_lines = long_lines or bool(more)
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
    if long_lines:
        content["long_lines_cut"] = f"lines longer than {limits.max_line_chars} characters were cut"
    if loaded.conflicts:
        content["cells"] = [len(side.cells) for _, side in loaded.sides]
        content["notice"] = " ".join(filter(None, [loaded.notice(), content.get("notice")]))
    return ToolResult.ok(truncated=capped, **content)


def summarize(sandbox: Sandbox, path: str) -> ToolResult | None:
    """summarize_file on a notebook: headings, imports and defined names of each cell."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    found = _merged(loaded, notebooks.summary)
    cells = found["cells"]
    shown = cells[:80]
    content: dict[str, Any] = {"path": loaded.rel, "language": "notebook", **found, "cells": shown}
    notes = [loaded.notice()]
    if len(cells) > len(shown):
        notes.append(f"first {len(shown)} of {len(cells)} cells summarised")
    if any(notes):
        content["notice"] = " ".join(filter(None, notes))
    return ToolResult.ok(truncated=len(cells) > len(shown), **content)


def _merged(loaded: Loaded, summarise: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The summary of a notebook, or of each side of a conflict with its lines labelled."""
    if not loaded.conflicts:
        return summarise(loaded.nb)
    parts = [(label, summarise(nb)) for label, nb in loaded.sides]
    return {
        "description": "; ".join(f"{label}: {found['description']}" for label, found in parts),
        "imports": list(dict.fromkeys(i for _, found in parts for i in found["imports"])),
        "cells": [f"{label} {line}" for label, found in parts for line in found["cells"]],
    }


def extract(sandbox: Sandbox, path: str) -> ToolResult | None:
    """extract_symbols on a notebook: defs and classes of the code cells, with cell ids."""
    loaded = load(sandbox, path)
    if loaded is None:
        return None
    rel = loaded.rel
    from .symbols import analyze
    from .symbols_degrade import OUTLINE_BUDGET

    found = [
        f"{label} {line}".lstrip() for label, nb in loaded.sides for line in notebooks.symbols(nb, analyze)
    ]
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
    notes = [loaded.notice(), f"first {len(shown)} of {len(found)} symbols" if len(found) > len(shown) else None]
    if any(notes):
        content["notice"] = " ".join(filter(None, notes))
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
    notes: list[str] = []
    for rel, count in by_file.items():
        try:
            loaded = load(sandbox, rel)
        except (SandboxDenied, OSError):
            loaded = None
        if loaded is None:  # not readable as a notebook: what the engine found, no base64
            kept += [scrubbed(m) for m in matches if m["file"] == rel]
            continue
        found = [
            {**({"side": label} if label else {}), **m}
            for label, nb in loaded.sides
            for m in notebooks.grep_cells(nb, regex, context, sandbox.limits.max_line_chars)
        ]
        if loaded.conflicts:
            notes.append(loaded.notice())
        if count and not found:
            outputs_only.append(rel)
        kept += [{"file": rel, **m} for m in found]
        delta += len(found) - count
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


def scrubbed(value: Any) -> Any:
    """`value` (a result's content) with every base64 run of its strings replaced."""
    if isinstance(value, str):
        return notebooks.scrub_blobs(value)
    if isinstance(value, dict):
        return {key: scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrubbed(item) for item in value]
    return value


def _as_text(path: str, result: ToolResult) -> ToolResult:
    """The plain-text tool's result on a .ipynb nbformat cannot read: no base64, and why."""
    if not notebooks.is_notebook(path) or result.status != "ok":
        return result
    result.content = scrubbed(result.content)
    why = (
        "not a notebook nbformat can read (broken JSON?): shown as plain text, "
        "base64 data replaced by placeholders"
    )
    result.content["notice"] = " ".join(filter(None, [why, result.content.get("notice")]))
    return result


def notebook_aware(name: str, func: Callable[[Any, ToolContext], ToolResult]) -> Callable[[Any, ToolContext], ToolResult]:
    """`func` (a file tool) with notebooks shown as cells instead of JSON."""

    def read_tool(args: Any, ctx: ToolContext) -> ToolResult:
        if args.end_line is None or args.end_line >= (args.start_line or 1):
            found = read(sandbox_of(ctx), args.path, args.start_line, args.end_line)
            if found is not None:  # cells, capped outputs, image placeholders: never raw JSON
                return found
        return _as_text(args.path, func(args, ctx))

    def summary_tool(args: Any, ctx: ToolContext) -> ToolResult:
        return summarize(sandbox_of(ctx), args.path) or _as_text(args.path, func(args, ctx))

    def symbols_tool(args: Any, ctx: ToolContext) -> ToolResult:
        return extract(sandbox_of(ctx), args.path) or _as_text(args.path, func(args, ctx))

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
