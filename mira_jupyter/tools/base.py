"""Pieces shared by the file tools: the sandbox check, cancellation, line reading."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .sandbox import BINARY_SNIFF_BYTES, Sandbox, SandboxDenied, is_binary
from .types import ToolArgs as ToolArgs  # the file tools import it from here
from .types import ToolContext


def sandbox_of(ctx: ToolContext) -> Sandbox:
    """The context's sandbox, checked, so a wiring mistake is a clear error."""
    if not isinstance(ctx.sandbox, Sandbox):
        raise TypeError("ToolContext.sandbox must be a tools.sandbox.Sandbox")
    return ctx.sandbox


def cancelled(ctx: ToolContext) -> bool:
    """Whether the operation was cancelled (tools stop early and say so)."""
    return bool(ctx.cancel is not None and getattr(ctx.cancel, "cancelled", False))


def check_text(f: BinaryIO, rel: str, size: int) -> None:
    """Raise a binary denial if the file's first 8 KiB hold a NUL; rewinds the file."""
    head = f.read(BINARY_SNIFF_BYTES)
    f.seek(0)
    if is_binary(head):
        raise SandboxDenied("binary", f"{rel!r} is a binary file ({size} bytes); not shown")


def iter_lines(
    f: BinaryIO,
    max_line_bytes: int,
    max_skip: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Yield (line, bytes cut from it) without ever holding more than one capped line.

    A line longer than `max_skip` bytes ends the iteration after it is yielded (its rest
    unread), so a file that is one 1 GB line is not read to its end; the caller sees the
    file position short of the file's size. `stop` is asked between the chunks of a long
    line's rest: when it says so, the line is yielded as far as it was read and the
    iteration ends (a clock checked between lines never runs inside a 2 GB line).
    """
    while True:
        line = f.readline(max_line_bytes)
        if not line:
            return
        cut = 0
        if not line.endswith(b"\n"):
            # a very long line: skip its rest in chunks, keeping the newline
            while True:
                if (max_skip is not None and cut >= max_skip) or (stop is not None and stop()):
                    yield line, cut
                    return
                chunk = f.readline(1 << 16)
                if not chunk:
                    break
                if chunk.endswith(b"\n"):
                    cut += len(chunk) - 1
                    line += b"\n"
                    break
                cut += len(chunk)
        yield line, cut


def decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text and whether decoding was lossy."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def clip_line(text: str, max_chars: int, already_cut: int = 0) -> tuple[str, int]:
    """Cut one decoded line to `max_chars`, with a marker; returns (line, chars cut).

    `already_cut` is what iter_lines dropped from the line before decoding (bytes, which
    equal characters for ASCII), so the marker reports the whole amount left out.
    """
    body = text.rstrip("\r\n")
    if len(body) <= max_chars and not already_cut:
        return text, 0
    ending = text[len(body) :]
    cut = max(len(body) - max_chars, 0) + already_cut
    return f"{body[:max_chars]}…[+{cut} chars]{ending}", cut


def count_newlines(f: BinaryIO, limit: int) -> int | None:
    """Newlines from the current position to EOF, or None past `limit` bytes."""
    total, seen = 0, 0
    while chunk := f.read(1 << 20):
        seen += len(chunk)
        if seen > limit:
            return None
        total += chunk.count(b"\n")
    return total


@dataclass
class LineScan:
    """How far a newline scan got: big files are scanned against a clock, never blindly."""

    newlines: int  # newlines seen from where the scan started
    scanned: int  # bytes read
    offset: int | None = None  # just after the target newline, when it was reached
    complete: bool = False  # reached the end of the file
    stopped: str | None = None  # "time limit" or "cancelled" when it gave up early


def scan_lines(
    f: BinaryIO, target: int | None, seconds: float, ctx: ToolContext | None = None
) -> LineScan:
    """Count newlines from the current position, stopping at the `target`-th one (its end
    offset is returned), at the end of the file, or when `seconds` or a cancel run out."""
    start = f.tell()
    deadline = time.monotonic() + seconds
    seen = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return LineScan(seen, f.tell() - start, complete=True)
        count = chunk.count(b"\n")
        if target is not None and seen + count >= target:
            pos = -1
            for _ in range(target - seen):
                pos = chunk.index(b"\n", pos + 1)
            offset = f.tell() - len(chunk) + pos + 1
            return LineScan(target, offset - start, offset=offset)
        seen += count
        if time.monotonic() > deadline:
            return LineScan(seen, f.tell() - start, stopped="time limit")
        if ctx is not None and cancelled(ctx):
            return LineScan(seen, f.tell() - start, stopped="cancelled")
