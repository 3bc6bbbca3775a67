"""Unified diffs of one file's change, for approvals and for the cell's list of changes.

A diff is capped (a rewritten 10,000-line file must not flood the cell or the log) and
says what it left out; binary content and files too large to compare are named, not
dumped. ``added + removed`` is the change's size that the ``auto-under`` gate measures.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .visible import visible

MAX_DIFF_LINES = 400  # lines of diff shown per file
MAX_LINE_CHARS = 400  # a minified line is cut here in the diff shown (counted whole)
MAX_COMPARE_LINES = 20_000  # beyond this either side is not compared line by line (difflib)
NO_NEWLINE = "\\ No newline at end of file"


@dataclass(frozen=True)
class FileDiff:
    """The unified diff of one file (``text`` is empty for a binary or too-large change)."""

    path: str
    text: str
    added: int
    removed: int
    note: str = ""  # why there is no text, or what the cap left out
    # a line or lines of the change were cut from `text`: the user cannot see all of it
    cut: bool = False

    @property
    def lines_changed(self) -> int:
        """Added plus removed lines: the size the auto-under gate compares. A diff the caps
        cut counts as huge: a 5 MB one-line change must not pass a 20-line gate unasked."""
        return (1 << 30) if self.cut else self.added + self.removed

    @property
    def stat(self) -> str:
        """'+3 −1' (or the note for a change without text)."""
        return f"+{self.added} −{self.removed}"


def code_size(code: str) -> str:
    """'1 line' / '12 lines' of `code`, for a one-line summary (approvals, the cell's question)."""
    lines = code.rstrip("\n").count("\n") + 1  # a \r is spelled in the question, not a break
    return f"{lines} line{'' if lines == 1 else 's'}"


def _text(data: bytes | None) -> str | None:
    if data is None:
        return ""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n" + NO_NEWLINE + "\n"  # as git shows it, so a lost newline is visible
    return lines


def _cut(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS] + f" [… {len(line) - MAX_LINE_CHARS:,} more characters]"


def file_diff(
    path: str, old: bytes | None, new: bytes | None, max_lines: int = MAX_DIFF_LINES
) -> FileDiff:
    """The diff from `old` to `new` (None: the file is absent on that side)."""
    before, after = _text(old), _text(new)
    if before is None or after is None:
        size = lambda data: "absent" if data is None else f"{len(data):,} bytes"  # noqa: E731
        # a binary change counts as large: the size gate never lets it through unasked
        return FileDiff(path, "", 1 << 30, 0, f"binary file: {size(old)} → {size(new)}")
    a, b = _lines(before), _lines(after)
    if len(a) > MAX_COMPARE_LINES or len(b) > MAX_COMPARE_LINES:
        return FileDiff(path, "", len(b), len(a), f"too large to compare: {len(a):,} → {len(b):,} lines")
    lines = list(
        difflib.unified_diff(
            a,
            b,
            fromfile="/dev/null" if old is None else f"a/{path}",
            tofile="/dev/null" if new is None else f"b/{path}",
            n=3,
        )
    )
    added = sum(1 for line in lines[2:] if line.startswith("+"))
    removed = sum(1 for line in lines[2:] if line.startswith("-"))
    shown: list[str] = []
    for line in lines:
        # split at "\n" only: a CR, form feed or U+2028 inside a line is shown, escaped,
        # rather than starting a line without its +/- mark
        line = line[:-2] if line.endswith("\r\n") else line.removesuffix("\n")
        shown += [visible(part) for part in line.split("\n")]
    cut = any(len(line) > MAX_LINE_CHARS for line in shown)
    shown = [_cut(line) for line in shown]
    note = ""
    if len(shown) > max_lines:
        note = f"{len(shown) - max_lines:,} more diff lines not shown"
        shown = shown[:max_lines] + [f"[… {note}]"]
        cut = True
    return FileDiff(path, "\n".join(shown), added, removed, note, cut)
