"""The matches of one grep_files call, collected from either engine and capped.

A path is re-checked by the sandbox before anything about it is kept, *including* whether it
matched at all: a refused file contributes neither lines nor counts.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from .base import clip_line
from .globs import Glob
from .policy import in_control_dir
from .sandbox import Resolved, Sandbox, SandboxDenied

COUNT_FACTOR = 50  # keep counting matches up to this many caps, to say how many were cut


@dataclass
class Hits:
    """Matches collected by either engine."""

    cap: int
    context: int
    matches: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    files: set[str] = field(default_factory=set)
    exact: bool = True  # False when counting stopped early
    notes: list[str] = field(default_factory=list)

    def full(self) -> bool:
        """Whether enough matches were counted to stop altogether."""
        return self.total >= self.cap * COUNT_FACTOR


class Collector:
    """Turns a stream of (root-relative path, line, text, is_match) into capped records."""

    def __init__(self, sandbox: Sandbox, hits: Hits, start: Resolved, glob: Glob | None) -> None:
        self.sandbox, self.hits, self.start, self.glob = sandbox, hits, start, glob
        self._allowed: dict[str, bool] = {}
        self._check = sandbox.visible_checker()
        self._before: collections.deque[tuple[int, str]] = collections.deque(maxlen=hits.context)
        self._last: dict[str, Any] | None = None

    def allowed(self, rel: str) -> bool:
        """Whether the root-relative `rel` passes the re-check (cached per path)."""
        if rel not in self._allowed:
            ok = not in_control_dir(rel)
            if ok:
                try:
                    res = self._check(rel)
                except SandboxDenied:
                    ok = False
                else:
                    # a link elsewhere that resolves into .git/ or .mira/ is not searched
                    ok = not in_control_dir(res.rel)
                if ok:
                    sub = (
                        res.rel
                        if self.start.rel in (".", res.rel)
                        else res.rel[len(self.start.rel) + 1 :]
                    )
                    ok = self.glob is None or self.glob.matches(sub)
            self._allowed[rel] = ok
            self._before.clear()
            self._last = None
        return self._allowed[rel]

    def count(self, rel: str) -> None:
        """A match past the cap: counted (when its file is allowed), not kept."""
        if self.allowed(rel):
            self.hits.total += 1
            self.hits.files.add(rel)

    def add(self, rel: str, line: int, text: str, is_match: bool) -> None:
        """Record one line from the engine."""
        if not self.allowed(rel):
            return
        clipped = clip_line(text, self.sandbox.limits.max_line_chars)[0].rstrip("\r\n")
        hits = self.hits
        if not is_match:
            last = self._last
            if (
                last is not None
                and line - last["line"] <= hits.context
                and len(last["after"]) < hits.context
            ):
                last["after"].append(clipped)
            if hits.context:
                self._before.append((line, clipped))
            return
        hits.total += 1
        hits.files.add(rel)
        if len(hits.matches) >= hits.cap:
            self._last = None
            return
        record: dict[str, Any] = {"file": rel, "line": line, "text": clipped}
        if hits.context:
            record["before"] = [t for n, t in self._before if line - n <= hits.context]
            record["after"] = []
        self._before.clear()
        hits.matches.append(record)
        self._last = record if hits.context else None


def verify(sandbox: Sandbox, hits: Hits, budget_bytes: int = 64 * 1024 * 1024) -> int:
    """Re-read every kept line through the sandbox; drop matches whose text differs.

    ripgrep opens files by path below its pinned directory, so a subdirectory swapped for a
    link (and back) while it searched can show it outside text under an inside name. Lines
    read here come through descriptors that never follow a link, so what is returned is
    what the project holds: matching text that changed is dropped, and context lines are
    taken from this read. Returns how many matches were dropped.
    """
    from .base import iter_lines

    limits = sandbox.limits
    by_file: dict[str, list[dict[str, Any]]] = {}
    for record in hits.matches:
        by_file.setdefault(record["file"], []).append(record)
    kept: list[dict[str, Any]] = []
    dropped = 0
    spent = 0
    for rel, records in by_file.items():
        last = max(r["line"] for r in records) + hits.context
        lines: dict[int, str] = {}
        try:
            with sandbox.open_read(rel, searching=True) as (f, st, _res):
                if spent + st.st_size > budget_bytes:
                    raise SandboxDenied("too_large", "verification budget spent")
                spent += st.st_size
                for n, (raw, cut) in enumerate(iter_lines(f, limits.max_line_chars * 4 + 1), 1):
                    if n > last:
                        break
                    text = raw.decode("utf-8", errors="replace")
                    lines[n] = clip_line(text, limits.max_line_chars, cut)[0].rstrip("\r\n")
        except (SandboxDenied, OSError):
            dropped += len(records)
            continue
        for record in records:
            n = record["line"]
            if _body(lines.get(n)) != _body(record["text"]):
                dropped += 1
                continue
            record["text"] = lines[n]
            if hits.context:
                record["before"] = [
                    lines[i] for i in range(max(1, n - len(record["before"])), n) if i in lines
                ]
                record["after"] = [
                    lines[i] for i in range(n + 1, n + 1 + len(record["after"])) if i in lines
                ]
            kept.append(record)
    hits.matches = kept
    return dropped


def _body(text: str | None) -> str | None:
    """A shown line without its cut marker (the two reads may cut a long line differently)."""
    return None if text is None else text.split("…[+", 1)[0]
