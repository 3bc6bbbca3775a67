"""grep_files: regex search with a linear-time engine (ripgrep, else RE2), never Python `re`.

A model-written regex is untrusted input: Python's backtracking `re` takes seconds on
`(a+)+$`. ripgrep's Rust regex and RE2 both guarantee linear time.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from typing import Any

from pydantic import Field

from .base import ToolArgs, cancelled, iter_lines, sandbox_of
from .globs import Glob, GlobError, compile_glob
from .grep_hits import COUNT_FACTOR, Collector, Hits, in_control_dir, verify
from .rg_args import rg_command
from .rg_run import Stalled, find_rg, grep_rg
from .sandbox import BINARY_SNIFF_BYTES, Resolved, Sandbox, SandboxDenied, is_binary
from .types import ToolContext, ToolResult, tool
from .walk import Walker

__all__ = ["GrepArgs", "find_rg", "grep_files"]


class GrepArgs(ToolArgs):
    """Arguments of grep_files."""

    pattern: str = Field(
        description="Regular expression (Rust/RE2 syntax: no backreferences or lookaround)."
    )
    path: str = Field(".", description="File or directory to search, relative to the project root.")
    file_pattern: str | None = Field(
        None, description="Glob limiting the files searched, e.g. '*.py' or 'src/**/*.ts'."
    )
    case_insensitive: bool = Field(False, description="Match regardless of case.")
    context_lines: int = Field(
        0, ge=0, le=10, description="Lines of context before and after each match."
    )
    include_ignored: bool = Field(False, description="Also search files that .gitignore excludes.")


# longer regexes are refused with one line (ripgrep's 128 KiB argument limit would fail them
# as a raw OSError, and no search a person writes is this long)
MAX_REGEX_CHARS = 4096
# a line is searched up to this many bytes (ripgrep searches it whole; a 2 GB line cannot
# be held): longer lines are searched in their start only, and the answer says so
_RE2_LINE_BYTES = 1 << 20


class _Clock:
    """The RE2 scan's deadline and cancel, remembered once they have run out."""

    def __init__(self, deadline: float, ctx: ToolContext) -> None:
        self.deadline, self.ctx, self.stopped = deadline, ctx, False

    def out(self) -> bool:
        """Whether the scan must stop now."""
        if not self.stopped:
            self.stopped = time.monotonic() > self.deadline or cancelled(self.ctx)
        return self.stopped


def _grep_re2(
    args: GrepArgs,
    sandbox: Sandbox,
    start: Resolved,
    glob: Glob | None,
    hits: Hits,
    ctx: ToolContext,
    big: bool = False,
) -> ToolResult | None:
    try:
        import re2
    except ImportError:
        return ToolResult.error("no linear-time regex engine: install ripgrep or google-re2")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not args.case_insensitive
    try:
        regex = re2.compile(args.pattern, options)
    except re2.error as exc:
        msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return ToolResult.denied("invalid_arguments", f"invalid regex: {msg}")
    limits = sandbox.limits
    deadline = time.monotonic() + (limits.scan_seconds if big else limits.grep_timeout)
    if os.path.isdir(start.real):
        walker = Walker(sandbox, include_ignored=args.include_ignored, cancel=ctx.cancel)
        paths = (e.rel for e in walker.walk(start, recursive=True, include_dirs=False))
    else:
        paths = iter([start.rel])
    collector = Collector(sandbox, hits, start, glob)
    clock = _Clock(deadline, ctx)
    line_cap = _RE2_LINE_BYTES + 1
    long_lines = False
    for rel in paths:
        if clock.out() or hits.full():
            hits.exact = False
            hits.notes.append("search stopped early (time limit, cancel or match budget)")
            break
        if not collector.allowed(rel):
            continue
        try:
            with sandbox.open_read(rel, searching=True) as (f, st, _res):
                if (st.st_size > limits.max_grep_filesize and not big) or is_binary(
                    f.read(BINARY_SNIFF_BYTES)
                ):
                    continue
                f.seek(0)
                # the clock is read on every line and between the chunks of a long one, so
                # a file that is one 2 GB line stops on time too
                for n, (raw, cut) in enumerate(iter_lines(f, line_cap, stop=clock.out), 1):
                    long_lines = long_lines or bool(cut)
                    text = raw.decode("utf-8", errors="replace")
                    # like rg, match without the line terminator (RE2's `$` is end of text)
                    matched = regex.search(text.rstrip("\r\n")) is not None
                    if matched or hits.context:
                        collector.add(rel, n, text, matched)
                    if clock.out():
                        break
        except (SandboxDenied, OSError):
            continue
        if clock.stopped:
            hits.exact = False
            hits.notes.append("search stopped early (time limit or cancel)")
            break
    if long_lines:
        hits.notes.append(
            f"lines longer than {line_cap - 1} bytes were searched in their first "
            f"{line_cap - 1} bytes only (the RE2 engine)"
        )
    return None


def _rg_engine(
    rg: str,
    args: GrepArgs,
    sandbox: Sandbox,
    start: Resolved,
    is_dir: bool,
    glob: Glob | None,
    hits: Hits,
    ctx: ToolContext,
    big: bool,
) -> ToolResult | None:
    limits = sandbox.limits
    cmd_for = functools.partial(
        rg_command,
        rg,
        pattern=args.pattern,
        case_insensitive=args.case_insensitive,
        context_lines=args.context_lines,
        include_ignored=args.include_ignored or not is_dir,
        secret_names=sandbox.secret_names,
        glob=glob if is_dir else None,
        max_count=limits.max_matches * COUNT_FACTOR,
        max_filesize=None if big else limits.max_grep_filesize,
    )
    collector = Collector(sandbox, hits, start, glob)
    time_limit = limits.scan_seconds if big else limits.grep_timeout
    failed = grep_rg(cmd_for, sandbox, start, is_dir, hits, collector, ctx, time_limit)
    if failed is None and is_dir:
        # a single file was handed over as a descriptor; below a directory, ripgrep opened
        # files by path, so what it showed is checked against a read that follows no link
        dropped = verify(sandbox, hits)
        if dropped:
            hits.total -= dropped
            hits.notes.append(f"{dropped} matches left out: their file changed during the search")
    return failed


def _bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


@tool
def grep_files(args: GrepArgs, ctx: ToolContext) -> ToolResult:
    """Search file contents with a regular expression (linear-time engine). Returns matching
    lines with file and line number, capped; optional context lines and file glob. Searching
    a directory skips files over 4 MiB; give such a file as the path to search it
    (time-limited)."""
    sandbox = sandbox_of(ctx)
    if not args.pattern:
        return ToolResult.denied("invalid_arguments", "empty pattern")
    if _bad_text(args.pattern):
        return ToolResult.denied("invalid_arguments", "NUL byte or lone surrogate in pattern")
    if len(args.pattern) > MAX_REGEX_CHARS:
        return ToolResult.denied(
            "invalid_arguments",
            f"pattern too long: {len(args.pattern):,} characters (at most {MAX_REGEX_CHARS:,})",
        )
    glob = None
    if args.file_pattern is not None:
        try:
            glob = compile_glob(args.file_pattern)
        except GlobError as exc:
            return ToolResult.denied(exc.reason, str(exc))
    start = sandbox.check_visible(args.path)
    if in_control_dir(start.rel):
        return ToolResult.denied(
            "protected_path",
            f"{sandbox.shown(args.path, start)} is a control directory, which is never searched",
        )
    try:
        st = os.stat(start.real)
    except OSError as exc:  # gone (or swapped) since the check
        raise SandboxDenied("not_found", f"{start.rel!r}: {exc.strerror}") from None
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        # a FIFO or device given as the path would block the search until the timeout
        return ToolResult.denied(
            "invalid_path",
            f"{sandbox.shown(args.path, start)} is not a regular file or directory",
        )
    is_dir = stat.S_ISDIR(st.st_mode)
    if not is_dir:
        # named directly, a binary file would be searched by ripgrep (NUL bytes and all)
        # and skipped in silence by RE2: both refuse it, as read_file does
        with sandbox.open_read(args.path) as (f, fst, _res):
            if is_binary(f.read(BINARY_SNIFF_BYTES)):
                return ToolResult.denied(
                    "binary",
                    f"{sandbox.shown(args.path, start)} is a binary file ({fst.st_size} bytes, "
                    "a NUL byte in its first 8 KiB): not searched",
                )
    limits = sandbox.limits
    big = not is_dir and st.st_size > limits.max_grep_filesize
    hits = Hits(cap=limits.max_matches, context=args.context_lines)
    rg = find_rg()
    engine = "ripgrep" if rg else "re2"
    try:
        failed = (
            _rg_engine(rg, args, sandbox, start, is_dir, glob, hits, ctx, big)
            if rg
            else _grep_re2(args, sandbox, start, glob, hits, ctx, big)
        )
    except Stalled as exc:
        hits = Hits(cap=limits.max_matches, context=args.context_lines)
        engine = "re2"
        hits.notes.append(
            f"ripgrep not used: {os.path.basename(str(exc))!r} is a special file, not a regular "
            "ignore file, and would block it"
        )
        failed = _grep_re2(args, sandbox, start, glob, hits, ctx, big)
    if failed is not None:
        return failed
    if big:
        hits.notes.append(
            f"{start.rel!r} is {st.st_size} bytes: searched for at most {limits.scan_seconds:g}s"
            + ("; the rest was not searched" if not hits.exact else "")
        )
    # rg searches files in parallel; sort so the same tree gives the same answer
    hits.matches.sort(key=lambda m: (m["file"], m["line"]))
    if not hits.total and not hits.exact and any("time limit" in n for n in hits.notes) and not big:
        return ToolResult.denied("timeout", "; ".join(hits.notes))
    content: dict[str, Any] = {
        "pattern": args.pattern,
        "path": start.rel,
        "engine": engine,
        "match_count": hits.total if hits.exact else f"at least {hits.total}",
        "file_count": len(hits.files),
        "matches": hits.matches,
    }
    left = hits.total - len(hits.matches)
    truncated = left > 0 or not hits.exact
    if left > 0:
        more = str(left) if hits.exact else f"at least {left}"
        content["notice"] = (
            f"showing {len(hits.matches)} of the matches: {more} more not shown; narrow the pattern, path or file_pattern"
        )
    if hits.notes:
        content["warnings"] = hits.notes
    return ToolResult.ok(truncated=truncated, **content)
