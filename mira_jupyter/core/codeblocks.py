"""The fenced code blocks of an answer: what ``--insert`` and "Insert as cell" put in cells.

CommonMark fences: a line of three or more backticks or tildes opens a block, and only a line
of the same character, at least as long, closes it, so a four-backtick block can hold a
three-backtick example. Blocks of output or prose (``text``, ``console``...) are not code.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
NOT_CODE = frozenset({"text", "txt", "output", "console", "log", "plaintext", "markdown", "md"})


def code_blocks(markdown: str) -> list[str]:
    """The source of each fenced code block, in order (unclosed last blocks included)."""
    blocks: list[str] = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, language = opening.group(1), opening.group(2).lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            body.append(lines[i])
            i += 1
        i += 1
        code = "\n".join(body).strip("\n")
        if code.strip() and language not in NOT_CODE:
            blocks.append(code)
    return blocks


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
