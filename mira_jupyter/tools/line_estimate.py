"""The line count of a big file: counted against the clock, the rest estimated from samples.

count_lines and summarize_file both report it, so both call this: extrapolating from
"however far the scan got" gave two answers 5-10x apart for the same sparse file, because
the figure depended on how fast each scan happened to read. Here the scanned prefix is
counted exactly and only the remainder is estimated, from blocks at fixed offsets, so the
estimate depends on the file and not on the machine's speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from .base import scan_lines
from .types import ToolContext

SAMPLES = 16  # blocks read at fixed offsets spread over the file
SAMPLE_BYTES = 256 * 1024


@dataclass(frozen=True)
class LineCount:
    """A file's lines: exact when the scan reached the end, else an estimate and how."""

    lines: int
    exact: bool
    how: str
    scan_stopped: str | None = None


def sample_offsets(size: int) -> list[int]:
    """Where the samples start: evenly spread, the last one ending at the end of the file."""
    step = max((size - SAMPLE_BYTES) // (SAMPLES - 1), 1)
    return sorted({min(i * step, max(size - SAMPLE_BYTES, 0)) for i in range(SAMPLES)})


def count_or_estimate_lines(
    f: BinaryIO, size: int, seconds: float, ctx: ToolContext | None = None
) -> LineCount:
    """Lines of the open file `f` of `size` bytes; leaves the position undefined."""
    f.seek(0)
    scan = scan_lines(f, None, seconds, ctx)
    last = b""
    if size:
        f.seek(size - 1)
        last = f.read(1)
    unterminated = 1 if size and last != b"\n" else 0
    if scan.complete:
        return LineCount(scan.newlines + unterminated, True, "lines counted exactly")
    newlines = sampled = 0
    for offset in sample_offsets(size):
        if offset < scan.scanned:
            continue  # the exact count already covers it
        f.seek(offset)
        block = f.read(SAMPLE_BYTES)
        newlines += block.count(b"\n")
        sampled += len(block)
    rest = size - scan.scanned
    if sampled:
        guess = round(newlines * rest / sampled)
        how = (
            f"lines counted in the first {scan.scanned} bytes ({scan.stopped}), the other "
            f"{rest} estimated from {sampled} bytes sampled at fixed offsets"
        )
    else:  # the scan stopped short of the last sample: extrapolate its own density
        guess = round(scan.newlines * rest / max(scan.scanned, 1))
        how = f"lines counted in the first {scan.scanned} bytes ({scan.stopped}), the rest extrapolated"
    return LineCount(scan.newlines + guess + unterminated, False, how, scan.stopped)
