"""Glob patterns for the file tools: validated, then compiled to an RE2 regex matched in-process.

Patterns are never handed to ``Path.glob``/``glob.glob`` (``Path(root).glob('../*')`` escapes
the root); they are matched against paths that a sandboxed walk already produced. A glob is
model-written input: translated to Python's backtracking ``re``, ``*a*a*a*a*a*a*a*a*a*a*b``
against a long name of ``a``s never returns (and holds the GIL, so no interrupt stops it).
RE2 matches in time linear in the name, whatever the pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..core.errors import MiraError
from .types import DenialReason

# a glob longer than this is no file filter a person would write; ripgrep's argument limit
# (128 KiB) would otherwise fail it as a raw "Argument list too long"
MAX_GLOB_CHARS = 1024


class GlobError(MiraError, ValueError):
    """A glob pattern that is malformed or tries to leave the search directory."""

    def __init__(self, message: str, reason: DenialReason = "invalid_path") -> None:
        super().__init__(message)
        self.reason: DenialReason = reason


def validate_glob(pattern: str) -> str:
    """Return the pattern normalised to POSIX separators, or raise GlobError."""
    if not pattern or not pattern.strip():
        raise GlobError("empty glob pattern")
    if len(pattern) > MAX_GLOB_CHARS:
        raise GlobError(f"glob pattern too long: {len(pattern):,} characters (at most {MAX_GLOB_CHARS:,})")
    if "\x00" in pattern:
        raise GlobError("NUL byte in glob pattern")
    if not _is_utf8(pattern):
        raise GlobError("glob pattern holds a lone surrogate (not valid Unicode text)")
    pattern = pattern.replace("\\", "/")
    if pattern.startswith("/") or pattern.startswith("~"):
        raise GlobError(
            "glob patterns are relative to the searched directory: no leading '/' or '~'",
            "outside_root",
        )
    if re.match(r"^[A-Za-z]:", pattern):
        raise GlobError("drive letters are not allowed in glob patterns", "outside_root")
    if pattern.startswith("!"):
        raise GlobError("negated globs are not supported: give the files to include")
    # '..' anywhere as a component (also inside braces such as '{..,x}') is refused outright
    for part in re.split(r"[/{},]", pattern):
        if part == "..":
            raise GlobError("'..' is not allowed in glob patterns", "outside_root")
    return pattern


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _translate_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate a ``[...]`` class starting at pattern[i] == '['; returns (regex, next index)."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        # ripgrep refuses this too: one answer whichever engine or tool reads the glob
        raise GlobError(
            f"malformed glob pattern: unclosed character class at '{pattern[i:i + 20]}' "
            "(a literal '[' is written '[[]')"
        )
    body = pattern[i + 1 : j]
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    for k in range(1, len(body) - 1):
        if body[k] == "-" and body[k - 1] > body[k + 1]:
            raise GlobError(
                f"malformed glob pattern: invalid range '{body[k - 1 : k + 2]}' in a character class"
            )
    # a ']' first in the body is a member (as in ripgrep); escaped, RE2 reads it so too
    # instead of closing the class early ('[!]x]' would become '[^/]' then 'x]')
    body = body.replace("\\", "\\\\").replace("/", "").replace("]", "\\]")
    if not body:
        return re.escape(pattern[i : j + 1]), j + 1
    return ("[^/" if negate else "[") + body + "]", j + 1


def _translate(pattern: str, depth: int = 0) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                after = i + 2
                if at_start and after < n and pattern[after] == "/":
                    out.append("(?:[^/]*/)*")  # '**/' matches zero or more directories
                    i = after + 1
                    continue
                out.append(".*")
                i = after
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            piece, i = _translate_class(pattern, i)
            out.append(piece)
            continue
        elif c == "{":
            close = _matching_brace(pattern, i)
            if close == -1:
                raise GlobError(
                    "malformed glob pattern: unclosed '{' (a literal '{' is written '[{]')"
                )
            if depth:
                raise GlobError("malformed glob pattern: nested alternate groups are not allowed")
            else:
                options = _split_top_level(pattern[i + 1 : close])
                out.append("(?:" + "|".join(_translate(o, depth + 1) for o in options) + ")")
                i = close + 1
                continue
        elif c == "}" and not depth:
            # ripgrep ignores a stray '}' and list_files would match it literally: refused,
            # so both tools give one answer
            raise GlobError("malformed glob pattern: unmatched '}' (a literal '}' is written '[}]')")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _matching_brace(pattern: str, start: int) -> int:
    level = 0
    for k in range(start, len(pattern)):
        if pattern[k] == "{":
            level += 1
        elif pattern[k] == "}":
            level -= 1
            if level == 0:
                return k
    return -1


def _split_top_level(body: str) -> list[str]:
    parts, level, current = [], 0, []
    for ch in body:
        if ch == "," and level == 0:
            parts.append("".join(current))
            current = []
            continue
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
        current.append(ch)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Glob:
    """A compiled glob: without '/', it matches file names; with '/', relative paths."""

    pattern: str
    regex: Any  # an RE2 pattern: linear-time matching
    by_name: bool

    def matches(self, rel_path: str) -> bool:
        """Whether `rel_path` (POSIX, relative to the searched directory) matches."""
        target = rel_path.rsplit("/", 1)[-1] if self.by_name else rel_path
        try:
            return self.regex.fullmatch(target) is not None
        except UnicodeEncodeError:  # a name that is not valid Unicode matches no glob
            return False


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> Glob:
    """Validate and compile a glob pattern (raises GlobError)."""
    pattern = validate_glob(pattern)
    if pattern.startswith("./"):
        pattern = pattern[2:]
    by_name = "/" not in pattern.rstrip("/")
    pattern = pattern.rstrip("/") or "*"
    import re2  # on first use: the registry is imported with the extension, before any glob

    options = re2.Options()
    options.log_errors = False
    options.dot_nl = True  # '**' spans names holding a newline too
    try:
        regex = re2.compile(_translate(pattern), options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise GlobError(f"malformed glob pattern: {detail}") from None
    return Glob(pattern, regex, by_name)
