"""The plain file tools: read_file, write_file, list_files, count_lines."""

from __future__ import annotations

import codecs
import os
import time
from typing import BinaryIO

from pydantic import Field

from .base import (
    LineScan,
    ToolArgs,
    cancelled,
    check_text,
    clip_line,
    count_newlines,
    decode,
    iter_lines,
    sandbox_of,
    scan_lines,
)
from .dispatch import stop_if_cancelled
from .globs import GlobError, compile_glob
from .grep_hits import in_control_dir
from .line_estimate import SAMPLE_BYTES, count_or_estimate_lines, sample_offsets
from .sandbox import Sandbox, SandboxDenied, WriteOutcome
from .types import ChangeProposal, FileWrite, ToolContext, ToolResult, tool
from .walk import Walker

# ---------------------------------------------------------------------------------------
# read_file


class ReadFileArgs(ToolArgs):
    """Arguments of read_file."""

    path: str = Field(description="File path, relative to the project root.")
    start_line: int | None = Field(
        None, ge=1, description="First line to return (1-based). Default 1."
    )
    end_line: int | None = Field(
        None,
        ge=1,
        description="Last line to return (inclusive). Default: as far as the caps allow.",
    )


_TOTAL_LINES_MAX_BYTES = 64 * 1024 * 1024  # above this, total_lines is not computed


def _total_lines(f: BinaryIO, size: int) -> int | None:
    if size > _TOTAL_LINES_MAX_BYTES:
        return None
    f.seek(0)
    total = count_newlines(f, _TOTAL_LINES_MAX_BYTES) or 0
    if size:
        f.seek(size - 1)
        total += f.read(1) != b"\n"
    return total


_MAX_LINE_SKIP = 32 * 1024 * 1024  # a longer line ends the read: its rest is not scanned


def _lines_in(scan_newlines: int, size: int, last_byte: bytes) -> int:
    return scan_newlines + (1 if size and last_byte != b"\n" else 0)


@tool
def read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
    """Read a text file in the project. Returns at most the configured number of
    lines/bytes; use start_line/end_line for a range. A 'notice' says what was left out and
    where to continue. A notebook (.ipynb) is shown as its cells (index, id, type, source)
    with outputs as capped text and images as placeholders."""
    sandbox = sandbox_of(ctx)
    limits = sandbox.limits
    start = args.start_line or 1
    if args.end_line is not None and args.end_line < start:
        return ToolResult.denied("invalid_arguments", "end_line is before start_line")
    with sandbox.open_read(args.path) as (f, st, res):
        check_text(f, res.rel, st.st_size)
        if start > 1:
            # seek to the line by counting newlines in big chunks, against the clock
            scan = scan_lines(f, start - 1, limits.scan_seconds, ctx)
            if scan.offset is None:
                return _not_reached(f, st.st_size, res.rel, start, scan, limits.scan_seconds)
            f.seek(scan.offset)
        out: list[str] = []
        size = 0
        lineno = start - 1
        lossy = long_lines = capped = stuck = False
        shown_until = f.tell()  # byte offset just after the last line returned
        for raw, cut in iter_lines(f, limits.max_line_chars * 4 + 1, _MAX_LINE_SKIP):
            lineno += 1
            if args.end_line is not None and lineno > args.end_line:
                break
            if cut:
                text = raw.decode("utf-8", errors="ignore")  # the cut may split a character
            else:
                text, bad = decode(raw)
                lossy = lossy or bad
            text, more = clip_line(text, limits.max_line_chars, cut)
            long_lines = long_lines or bool(more)
            encoded = len(text.encode("utf-8"))
            if len(out) >= limits.max_lines or size + encoded > limits.max_read_bytes or cancelled(ctx):
                capped = True
                break
            out.append(text)
            size += encoded
            shown_until = f.tell()
        else:
            # the lines ran out before the end of the file: one was too long to skip
            stuck = f.tell() < st.st_size
        total = _total_lines(f, st.st_size)
    content: dict[str, object] = {"path": res.rel, "content": "".join(out)}
    if out:
        content["start_line"] = start
        content["end_line"] = start + len(out) - 1
    content["total_lines"] = total
    if not out and total is not None and start > total:
        content["notice"] = f"start_line {start} is past the end of the file ({total} lines)"
    if capped:
        next_line = start + len(out)
        lines_left = "" if total is None else f"lines {next_line}-{total}, "
        content["notice"] = (
            f"truncated at {limits.max_lines} lines / {limits.max_read_bytes} bytes: "
            f"{lines_left}{st.st_size - shown_until} bytes not shown; "
            f"call again with start_line={next_line}"
        )
    elif stuck:
        content["notice"] = (
            f"line {start + len(out) - 1} is longer than {_MAX_LINE_SKIP} bytes: the rest of the "
            f"file ({st.st_size - shown_until} bytes) was not read; use grep_files"
        )
    if long_lines:
        content["long_lines_cut"] = f"lines longer than {limits.max_line_chars} characters were cut"
    if lossy:
        content["lossy_decode"] = True
    return ToolResult.ok(truncated=capped or stuck, **content)


def _not_reached(
    f: BinaryIO, size: int, rel: str, start: int, scan: LineScan, seconds: float
) -> ToolResult:
    """read_file's answer when the start line was not found: past the end, or too far."""
    if scan.complete:
        f.seek(max(size - 1, 0))
        total = _lines_in(scan.newlines, size, f.read(1))
        return ToolResult.ok(
            path=rel,
            content="",
            total_lines=total,
            notice=f"start_line {start} is past the end of the file ({total} lines)",
        )
    return ToolResult.ok(
        truncated=True,
        path=rel,
        content="",
        total_lines=None,
        notice=(
            f"line {start} not reached: after {seconds:g}s ({scan.stopped}) the scan had read "
            f"{scan.scanned} of {size} bytes ({scan.newlines} lines); the file is too big to "
            "seek by line number this far: use grep_files to find the text, then read near it"
        ),
    )


# ---------------------------------------------------------------------------------------
# write_file


class WriteFileArgs(ToolArgs):
    """Arguments of write_file."""

    path: str = Field(
        description="File path, relative to the project root. Parent folders are created."
    )
    content: str = Field(description="The complete new content of the file (UTF-8).")


@tool(writes=True)
def write_file(args: WriteFileArgs, ctx: ToolContext) -> ToolResult:
    """Create or completely replace a text file (atomic; parent folders are created).
    Control files (.git/, .mira/, skills, the database) and credentials cannot be written.

    The previous bytes go to ctx.on_write before the file is replaced, so the write can be
    undone; if recording them fails, nothing is written.
    """
    sandbox = sandbox_of(ctx)
    from .notebooks import is_notebook

    if is_notebook(args.path):
        return ToolResult.denied(
            "not_allowed",
            f"{args.path} is a notebook: change it with edit_notebook (one cell at a time, "
            "outputs kept), never by rewriting its JSON",
        )
    try:
        data = args.content.encode("utf-8")
    except UnicodeEncodeError as exc:
        return ToolResult.denied(
            "invalid_arguments", f"content holds a lone surrogate at character {exc.start}"
        )
    outcome = write_with_undo(sandbox, args.path, data, ctx)
    if isinstance(outcome, ToolResult):
        return outcome
    lines = args.content.count("\n") + (0 if not args.content or args.content.endswith("\n") else 1)
    return ToolResult.ok(
        path=outcome.rel,
        created=outcome.created,
        bytes_written=outcome.bytes_written,
        lines_written=lines,
        sha256=outcome.sha256,
    )


def write_with_undo(
    sandbox: Sandbox, path: str, data: bytes, ctx: ToolContext, tool: str = "write_file"
) -> WriteOutcome | ToolResult:
    """Write `data` to `path` atomically through the sandbox, only once its undo record is safe.

    When the approval gate (``ctx.approve``) asks, the write waits for the user's answer and a
    rejection is returned instead; the file must still hold what the diff showed, or nothing
    is written. Returns the write's outcome, or an error result when recording the undo
    entry failed (then nothing was written). Sandbox refusals and OS errors propagate to the
    dispatcher.
    """
    failure: list[Exception] = []
    proposal: ChangeProposal | None = None
    if ctx.approve is not None:
        # a refused target is refused before anyone is asked; a link is asked about (and
        # written) by the file it reaches, which is what changes (a command may plant links)
        target = sandbox.check_writable(path).rel
        path = target
        proposal = ChangeProposal(
            tool, "write", path=target, new=data, read_old=lambda: _current_bytes(sandbox, target)
        )
        refusal = ctx.approve(proposal)
        if refusal is not None:
            return refusal

    def report(write: FileWrite) -> None:
        if proposal is not None and proposal.asked and write.previous != proposal.old():
            # the user approved a diff against other content: nothing of it is applied
            failure.append(ChangedWhileWaiting())
            raise failure[-1]
        if ctx.on_write is None:
            return
        write.new = data
        try:
            ctx.on_write(write)
        except Exception as exc:  # no undo entry means no write, and the model is told
            failure.append(exc)
            raise

    stop_if_cancelled(ctx)  # the operation may have been stopped since the call began
    try:
        return sandbox.write_bytes(path, data, report)
    except Exception as exc:
        if not failure:
            raise  # the dispatcher turns SandboxDenied and OSError into results
        if isinstance(exc, ChangedWhileWaiting):
            return ToolResult.error(
                f"not written: {path} changed while the change waited for approval; read it again"
            )
        return ToolResult.error(
            f"not written: recording the undo entry failed ({type(exc).__name__}: {exc})"
        )


class ChangedWhileWaiting(Exception):
    """The file no longer holds the content the approved diff was made against."""


def _current_bytes(sandbox: Sandbox, path: str) -> bytes | None:
    """The file's whole content now, for the diff shown before the write (None: absent)."""
    try:
        with sandbox.open_read(path) as (handle, _stat, _res):
            return handle.read(sandbox.limits.max_undo_bytes + 1)
    except SandboxDenied as exc:
        if exc.reason == "not_found":
            return None
        raise


# ---------------------------------------------------------------------------------------
# list_files


class ListFilesArgs(ToolArgs):
    """Arguments of list_files."""

    directory: str = Field(".", description="Directory to list, relative to the project root.")
    pattern: str | None = Field(
        None,
        description="Glob filter for files, e.g. '*.py' (matches names) or 'src/**/*.ts' (matches "
        "paths relative to `directory`; implies recursive). Supports *, **, ?, [..], {a,b}.",
    )
    recursive: bool = Field(False, description="List files in all subdirectories too.")
    include_ignored: bool = Field(
        False, description="Also list files that .gitignore excludes (and node_modules etc.)."
    )


@tool
def list_files(args: ListFilesArgs, ctx: ToolContext) -> ToolResult:
    """List files in a project directory, optionally recursive and filtered by a glob.
    Honours .gitignore; never follows links out of the project."""
    sandbox = sandbox_of(ctx)
    cap = sandbox.limits.max_files
    glob = None
    if args.pattern is not None:
        try:
            glob = compile_glob(args.pattern)
        except GlobError as exc:
            return ToolResult.denied(exc.reason, str(exc))
    start = sandbox.check_visible(args.directory)
    if in_control_dir(start.rel):
        return ToolResult.denied(
            "protected_path",
            f"{sandbox.shown(args.directory, start)} is a control directory, which is never listed",
        )
    if not _is_dir(start.real):
        return ToolResult.denied(
            "invalid_path", f"{sandbox.shown(args.directory, start)} is not a directory: use read_file"
        )
    recursive = args.recursive or (glob is not None and not glob.by_name)
    walker = Walker(sandbox, include_ignored=args.include_ignored, cancel=ctx.cancel)
    prefix = "" if start.rel == "." else start.rel + "/"
    files: list[str] = []
    dirs: list[str] = []
    omitted = 0
    budget = cap * 50  # keep counting past the cap, so the marker can say how much is left
    for entry in walker.walk(start, recursive=recursive, include_dirs=not recursive):
        if glob is not None and (entry.kind == "dir" or not glob.matches(entry.rel[len(prefix) :])):
            continue
        if len(files) + len(dirs) < cap:
            (dirs if entry.kind == "dir" else files).append(entry.rel)
            continue
        omitted += 1
        if omitted + cap >= budget or cancelled(ctx):
            break
    content: dict[str, object] = {"directory": start.rel, "count": len(files), "files": files}
    if not recursive:
        content["directories"] = [d + "/" for d in dirs]
    if omitted:
        more = f"at least {omitted}" if omitted + cap >= budget else str(omitted)
        content["notice"] = (
            f"truncated at {cap} entries: {more} more not shown; narrow the directory or pattern"
        )
    skipped = walker.stats.as_dict()
    if skipped:
        content["skipped"] = skipped
    if walker.stats.notes:  # a bind mount of '/' or a loop: said, so the model knows why
        content["left_out"] = walker.stats.notes
    if cancelled(ctx):
        content["cancelled"] = True
    return ToolResult.ok(truncated=bool(omitted), **content)


def _is_dir(real: str) -> bool:
    return os.path.isdir(real)


# ---------------------------------------------------------------------------------------
# count_lines


class CountLinesArgs(ToolArgs):
    """Arguments of count_lines."""

    paths: list[str] = Field(
        min_length=1, description="Files to count, relative to the project root."
    )


_EXACT_COUNT_BYTES = 32 * 1024 * 1024  # words and characters are counted exactly up to this


class _Late(Exception):
    """The call's time was used up before an exact count finished."""


def _exact_counts(f: BinaryIO, ctx: ToolContext, deadline: float) -> dict[str, int] | None:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    lines = words = chars = size = 0
    last = b""
    while chunk := f.read(1 << 20):
        if cancelled(ctx):
            return None
        if time.monotonic() > deadline:
            raise _Late
        size += len(chunk)
        lines += chunk.count(b"\n")
        words += len(chunk.split())
        if last and not last[-1:].isspace() and not chunk[:1].isspace():
            words -= 1  # one word straddles the chunk boundary
        chars += len(decoder.decode(chunk))
        last = chunk
    chars += len(decoder.decode(b"", final=True))
    if last and not last.endswith(b"\n"):
        lines += 1
    return {"lines": lines, "words": words, "chars": chars, "bytes": size}


def _estimated_counts(f: BinaryIO, size: int, ctx: ToolContext, seconds: float, why: str) -> dict[str, object]:
    """Lines by a newline scan of at most `seconds` (exact when it reaches the end, else the
    rest estimated); words and characters from evenly spread samples. Says which are
    estimates, and `why`."""
    count = count_or_estimate_lines(f, size, seconds, ctx)
    words = chars = sampled = 0
    for offset in sample_offsets(size):
        f.seek(offset)
        block = f.read(SAMPLE_BYTES)
        sampled += len(block)
        words += len(block.split())
        chars += len(block.decode("utf-8", errors="replace"))
    out: dict[str, object] = {"bytes": size, "lines": count.lines}
    estimated = ["words", "chars"] if count.exact else ["lines", "words", "chars"]
    out["words"] = round(words * size / sampled)
    out["chars"] = round(chars * size / sampled)
    out["estimated"] = estimated
    out["notice"] = (
        f"{why}: {count.how}; words and chars "
        f"extrapolated from {len(sample_offsets(size))} samples ({sampled} bytes)"
    )
    return out


def _count_one(ctx: ToolContext, path: str, deadline: float) -> dict[str, object]:
    sandbox = sandbox_of(ctx)
    try:
        with sandbox.open_read(path) as (f, st, res):
            check_text(f, res.rel, st.st_size)
            left = max(deadline - time.monotonic(), 0.0)
            if st.st_size > _EXACT_COUNT_BYTES:
                why = f"{st.st_size} bytes is over {_EXACT_COUNT_BYTES}"
                return {"path": res.rel, **_estimated_counts(f, st.st_size, ctx, left, why)}
            try:
                counts = _exact_counts(f, ctx, deadline)
            except _Late:
                why = "the call's time limit was reached before the exact count finished"
                f.seek(0)
                return {"path": res.rel, **_estimated_counts(f, st.st_size, ctx, 0.0, why)}
            if counts is None:
                return {"path": res.rel, "error": "cancelled"}
            return {"path": res.rel, **counts}
    except SandboxDenied as exc:
        return {"path": path, "error": exc.message, "reason": exc.reason}
    except OSError as exc:
        return {"path": path, "error": exc.strerror or str(exc)}


@tool
def count_lines(args: CountLinesArgs, ctx: ToolContext) -> ToolResult:
    """Count lines, words, characters and bytes of several files at once; a bad path gives
    an error entry for that path only."""
    limits = sandbox_of(ctx).limits
    cap = limits.max_paths
    # one time limit for the whole call: fifty paths to a 1 GB file took 50 scans of it
    deadline = time.monotonic() + limits.scan_seconds
    results = []
    late = False
    for path in args.paths[:cap]:
        if cancelled(ctx):
            break
        if results and time.monotonic() >= deadline:  # the first path is always counted
            late = True
            break
        results.append(_count_one(ctx, path, deadline))
    counted = [r for r in results if "lines" in r]
    content: dict[str, object] = {
        "files": results,
        "total_lines": sum(int(r["lines"]) for r in counted),  # type: ignore[call-overload]
        "errors": len(results) - len(counted),
    }
    left = len(args.paths) - len(results)
    if left:
        why = (
            f"the call's time limit ({limits.scan_seconds:g}s) was used up; count them in another call"
            if late
            else f"cap {cap} per call, or cancelled"
        )
        content["notice"] = f"{left} paths not counted ({why})"
    return ToolResult.ok(truncated=bool(left), **content)
