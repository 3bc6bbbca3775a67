"""The fenced code blocks of an answer: what ``--insert`` and "Insert as cell" put in cells.

CommonMark fences: a line of three or more backticks or tildes opens a block, and only a line
of the same character, at least as long, closes it, so a four-backtick block can hold a
three-backtick example. Models write steps as lists, so a fence may be indented (a list item,
a nested one, a tab) or quoted (``> ```python``): its indentation and quote markers are
removed from the block's lines, as CommonMark does, so the code runs as a cell.

Only Python blocks become cells: a block tagged ``python``/``py``/``ipython`` or untagged.
``diff``, ``bash``, ``text``, ``console``, ``json`` and every other language are left out
(they are shown in the answer; run as a Python cell they would be a syntax error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# quote markers, then the fence's indentation, then the fence and its info string
_OPEN = re.compile(r"^((?:[ \t]*>[ \t]?)*)([ \t]*)(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$")
_QUOTE = re.compile(r"^(?:[ \t]*>[ \t]?)")
PYTHON = frozenset({"", "python", "py", "python3", "py3", "ipython", "ipython3", "{python}"})


@dataclass(frozen=True)
class FencedBlock:
    """One fenced block: where it is in the text (character offsets), its language, its code."""

    start: int
    end: int
    language: str
    code: str


def _unquote(line: str, depth: int) -> str:
    for _ in range(depth):
        match = _QUOTE.match(line)
        if match is None:
            break
        line = line[match.end() :]
    return line


def _dedent(line: str, indent: str) -> str:
    if line.startswith(indent):
        return line[len(indent) :]
    # a line indented less than the fence (or with other whitespace): up to that much goes
    stripped = line.lstrip(" \t")
    return line[min(len(indent), len(line) - len(stripped)) :]


def fenced_blocks(markdown: str) -> list[FencedBlock]:
    """Every fenced block of `markdown`, in order (an unclosed last block runs to the end)."""
    blocks: list[FencedBlock] = []
    lines = markdown.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        start = offsets[i]
        quotes, indent, fence = opening.group(1), opening.group(2), opening.group(3)
        language = opening.group(4).lower()
        depth = quotes.count(">")
        body: list[str] = []
        i += 1
        while i < len(lines):
            line = _unquote(lines[i], depth)
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            body.append(_dedent(line, indent))
            i += 1
        end = min(offsets[min(i + 1, len(lines))], len(markdown))
        i += 1
        blocks.append(FencedBlock(start, end, language, "\n".join(body).strip("\n")))
    return blocks


def code_blocks(markdown: str) -> list[str]:
    """The source of each fenced Python code block, in order (unclosed last blocks included)."""
    return [b.code for b in fenced_blocks(markdown) if b.code.strip() and b.language in PYTHON]


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ONLY_BRACKETS = re.compile(r"^[\s{}\[\](),]*$")


def first_line(report: str, limit: int = 200) -> str:
    """The first line of `report` that says something: not a fence marker (`` ```json ``),
    not blank, not only brackets (the ``{`` opening a JSON reply). For one-line summaries."""
    for line in report.splitlines():
        if _FENCE_LINE.match(line) or _ONLY_BRACKETS.match(line):
            continue
        return line.strip()[:limit]
    return ""
