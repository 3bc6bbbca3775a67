"""summarize_file: a file in a few hundred tokens — stats, imports, an outline, head and tail.

It exists so the orchestrator can decide whether a file matters without paying for it:
the outline lists top-level declarations with their line spans and member counts, which
is enough to ask read_file for just the lines that matter.
"""

from __future__ import annotations

import ast
import collections
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from .base import (
    ToolArgs,
    check_text,
    clip_line,
    decode,
    iter_lines,
    sandbox_of,
)
from .line_estimate import count_or_estimate_lines
from .symbols import Analysis, Symbol, analyze, detect_language
from .types import ToolContext, ToolResult, tool

MAX_OUTLINE = 40
MAX_IMPORTS = 25
MAX_EXPORTS = 30
PREVIEW_LINE_CHARS = 160
_TAIL_BYTES = 64 * 1024  # read from the end of a big file for its tail
_CONTAINERS = {"namespace", "module"}
_MEMBER_KINDS = {"method", "function"}
_TEXT_KINDS = {
    ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
    ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".cfg": "ini", ".ini": "ini",
    ".sql": "sql", ".sh": "shell", ".html": "html", ".css": "css", ".csv": "csv",
}  # fmt: skip
_MD_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
_LICENCE = re.compile(r"copyright|licen[cs]ed?\b|spdx-license|all rights reserved", re.IGNORECASE)
_COMMENT_LINE = re.compile(r"(?:#(?:[ #!]|$)|//|--|\*)")  # not `#include`, `#define`
LICENCE_LOOKAHEAD = 60  # lines read past the head so a licence header can be skipped
TINY_LINES = 30  # files this small come back whole: a summary would cost as much
TINY_BYTES = 2_000


class SummarizeFileArgs(ToolArgs):
    """Arguments of summarize_file."""

    path: str = Field(description="File to summarise, relative to the project root.")
    preview_lines: int = Field(
        5, ge=0, le=40, description="Lines shown from the start and from the end."
    )


def _outline(symbols: list[Symbol]) -> list[str]:
    containers = {s.name for s in symbols if s.kind in _CONTAINERS}
    members = collections.Counter(
        s.parent.rsplit(".", 1)[-1] for s in symbols if s.parent and s.kind in _MEMBER_KINDS
    )
    out = []
    for s in symbols:
        if (s.parent is not None and s.parent not in containers) or s.kind == "impl":
            continue  # members are counted on their type; an impl block adds no new name
        line = s.compact()
        count = members.get(s.name, 0) if s.kind not in _MEMBER_KINDS | _CONTAINERS else 0
        out.append(f"{line} ({count} method{'s' if count > 1 else ''})" if count else line)
    return out


def _capped(items: list[str], cap: int) -> list[str]:
    return items if len(items) <= cap else [*items[:cap], f"... +{len(items) - cap} more"]


def _description(source: str, language: str | None) -> str | None:
    """The module docstring or leading comment, first paragraph, unless it is a licence."""
    text = ""
    if language == "python":
        try:
            text = ast.get_docstring(ast.parse(source)) or ""
        except (SyntaxError, ValueError):
            text = ""
    else:
        lines = []
        for line in source.lstrip().splitlines()[:12]:
            stripped = line.strip()
            if (
                not stripped.startswith(("//", "/*", "*", "#", "--"))
                or stripped.startswith("#!")
                or stripped.startswith("#include")
            ):
                break
            body = stripped.lstrip("/*#-! ").rstrip("*/ ").strip()
            if not body and lines:
                break
            if body:
                lines.append(body)
        text = " ".join(lines)
    text = " ".join(text.split("\n\n")[0].split())
    if not text or re.search(r"copyright|licen[cs]e|spdx", text, re.IGNORECASE):
        return None
    return text[:240]


def _markdown_outline(text: str) -> list[str]:
    out, fenced = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := _MD_HEADING.match(line)):
            out.append(f"{n} {m.group(1)} {m.group(2)[:100]}")
    return out


@tool
def summarize_file(args: SummarizeFileArgs, ctx: ToolContext) -> ToolResult:
    """Summarise a file cheaply: line/byte counts, description, imports, an outline of
    top-level declarations with line spans, and the first/last lines. Much cheaper than
    read_file."""
    sandbox = sandbox_of(ctx)
    n = args.preview_lines
    with sandbox.open_read(args.path) as (f, st, res):
        check_text(f, res.rel, st.st_size)
        parseable = st.st_size <= sandbox.limits.max_parse_bytes
        if parseable:
            whole = f.read()
            f.seek(0)
            first, tail, lines, blank = _preview(f, n, ctx)
        else:
            whole = b""
            big = _sample_big(f, st.st_size, n, ctx)
            first, tail, lines, blank = big.head, big.tail, big.lines, None
    ext = os.path.splitext(res.rel)[1].lower()
    language = detect_language(res.rel)
    content: dict[str, Any] = {
        "path": res.rel,
        "language": language or _TEXT_KINDS.get(ext, ext.lstrip(".") or "text"),
        "lines": lines,
        "bytes": st.st_size,
    }
    if blank is not None:
        content["blank_lines"] = blank
    source, lossy = decode(whole)
    if lossy:
        content["lossy_decode"] = True
    if parseable and lines <= TINY_LINES and st.st_size <= TINY_BYTES:
        # a summary of a file this small costs about as much as the file: give the file
        content["content"] = source
        content["note"] = f"small file ({lines} lines): its whole content instead of a summary"
        return ToolResult.ok(**content)
    if parseable:
        description = _description(source, language)
        if description:
            content["description"] = description
    if parseable and language is not None:
        analysis: Analysis = analyze(whole, language)
        content["language"] = analysis.language
        if analysis.imports:
            content["imports"] = _capped(analysis.imports, MAX_IMPORTS)
        exports = analysis.exports
        if exports is None and language in ("typescript", "tsx", "javascript"):
            exports = [s.name for s in analysis.symbols if s.parent is None and s.exported]
        if exports:
            content["exports"] = _capped(exports, MAX_EXPORTS)
        content["symbol_count"] = len(analysis.symbols)
        content["outline"] = _capped(_outline(analysis.symbols), MAX_OUTLINE)
        if analysis.parse_errors:
            content["warning"] = analysis.parse_note()
    elif parseable and content["language"] == "markdown":
        content["outline"] = _capped(_markdown_outline(source), MAX_OUTLINE)
    elif not parseable:
        content["notice"] = f"over the {sandbox.limits.max_parse_bytes}-byte parse cap: no outline"
    if not parseable:
        content["sampled"] = big.note
        if big.estimated:
            content["estimated"] = ["lines"]
    if n:
        skip = _licence_lines(first) if parseable else 0
        if skip:
            content["licence_header"] = f"lines 1-{skip} (licence/copyright text, not shown)"
        head = first[skip : skip + n]
        if parseable:
            rest = [*first[skip + n :], *tail][-n:] if lines > skip + n else []
        else:
            rest = list(tail)
        content["head"] = "\n".join(head)
        if rest:
            omitted = lines - skip - len(head) - len(rest)
            if omitted > 0:
                start = skip + len(head) + 1
                content["omitted_lines"] = (
                    f"about {omitted} lines"
                    if not parseable and big.estimated
                    else f"{start}-{start + omitted - 1}"
                )
            content["tail"] = "\n".join(rest)
    if parseable and not lossy and len(source) <= len(json.dumps(content, ensure_ascii=False)):
        # the file is shorter than its own summary: give the file
        whole_file = {k: content[k] for k in ("path", "language", "lines", "blank_lines", "bytes")}
        whole_file["content"] = source
        whole_file["note"] = f"the whole file ({lines} lines): shorter than its summary would be"
        return ToolResult.ok(**whole_file)
    return ToolResult.ok(**content)


def _preview(
    f: Any, n: int, ctx: ToolContext
) -> tuple[list[str], collections.deque[str], int, int]:
    """Head (plus room to look past a licence header), tail, line and blank-line counts."""
    head: list[str] = []
    tail: collections.deque[str] = collections.deque(maxlen=n)
    lines = blank = 0
    for raw, cut in iter_lines(f, PREVIEW_LINE_CHARS * 4 + 1):
        lines += 1
        text = raw.decode("utf-8", errors="replace")
        blank += not text.strip()
        clipped = clip_line(text, PREVIEW_LINE_CHARS, cut)[0].rstrip("\r\n")
        if len(head) < n + LICENCE_LOOKAHEAD:
            head.append(clipped)
        else:
            tail.append(clipped)
    return head, tail, lines, blank


@dataclass
class _BigSample:
    head: list[str]
    tail: list[str]
    lines: int
    estimated: bool
    note: str


def _sample_big(f: Any, size: int, n: int, ctx: ToolContext) -> _BigSample:
    """A big file, sampled: its first and last lines, and lines counted against the clock."""
    limits = sandbox_of(ctx).limits
    head: list[str] = []
    for raw, cut in iter_lines(f, PREVIEW_LINE_CHARS * 4 + 1, _TAIL_BYTES):
        if len(head) >= n:
            break
        text = raw.decode("utf-8", errors="replace")
        head.append(clip_line(text, PREVIEW_LINE_CHARS, cut)[0].rstrip("\r\n"))
    f.seek(max(size - _TAIL_BYTES, 0))
    end = f.read(_TAIL_BYTES)
    tail_lines = end.decode("utf-8", errors="replace").splitlines()[1:]  # the first is partial
    tail = [clip_line(t, PREVIEW_LINE_CHARS)[0] for t in tail_lines[-n:]] if n else []
    # the same count as count_lines gives (one function, so the two tools agree)
    count = count_or_estimate_lines(f, size, limits.scan_seconds, ctx)
    lines, how = count.lines, count.how
    note = (
        f"a {size}-byte file: head, the last {_TAIL_BYTES} bytes for the tail, {how}; "
        "blank lines, description and outline not computed"
    )
    return _BigSample(head, tail, lines, not count.exact, note)


def _licence_lines(first: list[str]) -> int:
    """How many leading lines are a licence/copyright comment block (0 if none)."""
    end = 0
    in_block = False
    for i, line in enumerate(first):
        stripped = line.strip()
        if in_block:
            end = i + 1
            in_block = "*/" not in stripped
            continue
        if not stripped or _COMMENT_LINE.match(stripped):
            end = i + 1
            continue
        if stripped.startswith("/*"):
            in_block = "*/" not in stripped[2:]
            end = i + 1
            continue
        break
    block = "\n".join(first[:end])
    if not _LICENCE.search(block):
        return 0
    while end and not first[end - 1].strip():
        end -= 1
    return end if end < len(first) else 0
