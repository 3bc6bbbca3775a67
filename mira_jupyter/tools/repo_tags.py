"""Per-file tags for the repo map: definitions (tree-sitter / ast outlines) and references.

A file's definitions come from `analyze` (the same outlines extract_symbols gives); its
references are the identifiers it uses, as counted tokens. Tags are cached per file by
(mtime, size), so a warm rebuild only stats the tree and re-reads what changed.
"""

from __future__ import annotations

import collections
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .sandbox import Sandbox, SandboxDenied
from .symbols import analyze, detect_language
from .walk import Walker

_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{2,}")
MAX_FILES = 5_000  # beyond this the map lists what it walked and says so


@dataclass(frozen=True)
class Definition:
    """One definition as the map shows it."""

    name: str
    line: int
    text: str  # the signature, or the compact outline line
    top_level: bool


@dataclass
class FileTags:
    """What one file defines and references."""

    rel: str
    defs: list[Definition] = field(default_factory=list)
    refs: collections.Counter[str] = field(default_factory=collections.Counter)


def file_tags(rel: str, source: bytes) -> FileTags:
    """Tags of one file's source (no definitions for a language without a parser)."""
    tags = FileTags(rel)
    language = detect_language(rel)
    if language is None:
        return tags
    try:
        analysis = analyze(source, language)
    except (ValueError, RecursionError):
        return tags
    defined = set()
    for s in analysis.symbols:
        if len(s.name) < 2 or s.nested:
            continue
        text = s.signature or f"{s.kind} {s.qualname}"
        tags.defs.append(Definition(s.name, s.line, text[:120], s.parent is None))
        defined.add(s.name)
    counts = collections.Counter(m.decode() for m in _IDENT.findall(source))
    # a file's own definitions are not references (each name appears once where defined)
    for name in defined:
        counts[name] -= 1
    tags.refs = +counts
    return tags


@dataclass
class _Entry:
    key: tuple[int, int]
    tags: FileTags


class TagCache:
    """Tags of every file under a sandbox root, refreshed by (mtime, size)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.reparsed = 0  # files parsed by the last refresh (for the benchmark and tests)
        self.changed: set[str] = set()  # files whose tags the last refresh replaced
        self.pending = 0  # files left unparsed by the last refresh's time budget
        self.capped = False
        self._listing: list[tuple[str, int]] | None = None
        self._watched: list[str] = []
        self._stamps: list[int] = []
        self._tags: dict[str, FileTags] | None = None  # the last refresh's result, reused as is
        self._check: tuple[list[str], list[tuple[int, int]]] = ([], [])  # its paths, their keys

    def refresh(self, cancel: Any = None, parse_budget: float | None = None) -> dict[str, FileTags]:
        """{rel: tags} for the current tree; only new or changed files are parsed.

        With `parse_budget` (seconds), parsing stops when it is spent: the files left have
        empty tags for now (counted in `pending`) and are parsed by a later refresh.
        """
        with self._lock:
            listing = self._listing
            files = self._walk(cancel)
            root = self.sandbox.root + os.sep
            if files is listing and self._tags is not None and not self.pending:
                # the same listing: nothing changed unless a file has a new (mtime, size).
                # One stat per file is the whole cost of a warm build's check, so the loop is
                # a bare map over prepared paths compared with prepared keys
                paths, keys = self._check
                try:
                    same = [(st.st_mtime_ns, st.st_size) for st in map(os.stat, paths)] == keys
                except OSError:
                    same = False
                if same:
                    self.changed = set()
                    self.reparsed = 0
                    return self._tags
            fresh: dict[str, _Entry] = {}
            self.changed = set()
            self.pending = 0
            deadline = None if parse_budget is None else time.monotonic() + parse_budget
            for rel, size in files:
                try:
                    st = os.stat(root + rel)
                except OSError:
                    continue
                key = (st.st_mtime_ns, st.st_size)
                entry = self._entries.get(rel)
                if entry is None or entry.key != key:
                    if deadline is not None and time.monotonic() > deadline:
                        self.pending += 1
                        entry = _Entry((-1, -1), FileTags(rel))  # retried next time
                    else:
                        entry = _Entry(key, self._read(rel, size))
                    self.changed.add(rel)
                fresh[rel] = entry
            self.reparsed = len(self.changed) - self.pending
            self._entries = fresh
            self._tags = {rel: e.tags for rel, e in fresh.items()}
            self._check = ([root + rel for rel in fresh], [e.key for e in fresh.values()])
            if len(fresh) != len(files):
                self._check = ([], [(-1, -1)])  # a listed file failed to stat: check it again
            return self._tags

    def _walk(self, cancel: Any) -> list[tuple[str, int]]:
        """The tree's files; reused while no directory (or .gitignore) has a new mtime.

        Adding, removing or renaming a file changes its directory's mtime, so stat-ing the
        directories is enough to know the listing is still true.
        """
        if self._listing is not None and self._stamps == self._stamp(self._watched):
            return self._listing
        walker = Walker(self.sandbox, cancel=cancel)
        start = self.sandbox.check_visible(".")
        out: list[tuple[str, int]] = []
        watched = ["."]
        self.capped = False
        for entry in walker.walk(start, recursive=True, include_dirs=True):
            if entry.rel == ".mira" or entry.rel.startswith(".mira/"):
                continue  # the extension's own log and state
            if entry.kind == "dir":
                watched.append(entry.rel)
                continue
            if entry.rel.rsplit("/", 1)[-1] == ".gitignore":
                watched.append(entry.rel)
            out.append((entry.rel, entry.size))
            if len(out) >= MAX_FILES:
                self.capped = True
                break
        self._watched, self._listing = watched, out
        self._stamps = self._stamp(watched)
        return out

    def _stamp(self, paths: list[str]) -> list[int]:
        root = self.sandbox.root + os.sep
        try:  # the common case, every directory still there, without a try per path
            return [st.st_mtime_ns for st in map(os.stat, [root + rel for rel in paths])]
        except OSError:
            pass
        stamps = []
        for rel in paths:
            try:
                stamps.append(os.stat(root + rel).st_mtime_ns)
            except OSError:
                stamps.append(-1)
        return stamps

    def _read(self, rel: str, size: int) -> FileTags:
        if detect_language(rel) is None or size > self.sandbox.limits.max_parse_bytes:
            return FileTags(rel)
        try:
            with self.sandbox.open_read(rel, searching=True) as (f, _st, _res):
                source = f.read(self.sandbox.limits.max_parse_bytes + 1)
        except (SandboxDenied, OSError):
            return FileTags(rel)
        if b"\0" in source[:8192]:
            return FileTags(rel)
        return file_tags(rel, source)
