"""A sandboxed directory walk: no link is ever followed, .gitignore files are honoured.

Directories are descended through descriptors opened with ``O_NOFOLLOW`` relative to their
parent, so a directory swapped for a link mid-walk is not entered.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .hardlinks import is_linked_secret
from .policy import NOISE_DIRS, in_control_dir
from .sandbox import HAVE_DIR_FD, Resolved, Sandbox, SandboxDenied, is_text

# Version-control metadata and Mira's own control directory (its log, journals and
# project skills) are never listed or searched: they are not the user's project.
VCS_DIRS = frozenset({".git", ".hg", ".svn", ".mira"})
_MAX_IGNORE_FILE = 1024 * 1024


@dataclass
class Entry:
    """One listed path, relative to the sandbox root."""

    rel: str
    kind: Literal["file", "dir"]
    size: int
    link: bool = False


@dataclass
class WalkStats:
    """What the walk left out, so the caller can say so."""

    ignored: int = 0
    invalid_names: int = 0  # names that are not valid UTF-8 (no tool could open them)
    links_skipped: int = 0
    unreadable: int = 0
    depth_capped: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """The non-zero counters."""
        return {
            k: v
            for k, v in {
                "ignored": self.ignored,
                "invalid_names": self.invalid_names,
                "links_skipped": self.links_skipped,
                "unreadable": self.unreadable,
                "depth_capped": self.depth_capped,
            }.items()
            if v
        }


class IgnoreRules:
    """The .gitignore specs that apply, deepest directory first (it wins, as in git)."""

    def __init__(self) -> None:
        self._specs: list[tuple[str, Any]] = []  # (base dir, pathspec.GitIgnoreSpec)

    def push(self, base: str, text: str) -> bool:
        """Add the rules of `base`/.gitignore; returns whether any were added."""
        lines = text.splitlines()
        if not any(line.strip() and not line.startswith("#") for line in lines):
            return False
        import pathspec  # imported on first use: it pulls in its RE2 backend

        self._specs.append((base, pathspec.GitIgnoreSpec.from_lines(lines)))
        return True

    def pop(self) -> None:
        """Drop the deepest rules when leaving their directory."""
        self._specs.pop()

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether git would ignore `rel` (relative to the root)."""
        for base, spec in reversed(self._specs):
            sub = rel if base == "." else rel[len(base) + 1 :]
            result = spec.check_file(sub + "/" if is_dir else sub)
            if result.include is not None:
                return bool(result.include)
        return False


def _read_small(sandbox: Sandbox, handle: Any, rel_dir: str, name: str) -> str | None:
    """Read a small control file (.gitignore) in an open directory without following links."""
    try:
        if HAVE_DIR_FD:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=handle)
        else:
            fd = os.open(os.path.join(sandbox.root, rel_dir, name), os.O_RDONLY)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return f.read(_MAX_IGNORE_FILE).decode("utf-8", errors="replace")


def _join(base: str, name: str) -> str:
    return name if base == "." else f"{base}/{name}"


class Walker:
    """Depth-first, name-sorted walk under one sandbox root."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        include_ignored: bool = False,
        cancel: Any = None,
    ) -> None:
        self.sandbox = sandbox
        self.include_ignored = include_ignored
        self.cancel = cancel
        self.stats = WalkStats()
        self.rules = IgnoreRules()

    def _load_ancestor_rules(self, start: Resolved) -> None:
        if self.include_ignored:
            return
        with contextlib.suppress(SandboxDenied, OSError), self.sandbox.open_dir(".git/info") as fd:
            text = _read_small(self.sandbox, fd, ".git/info", "exclude")
            if text:
                self.rules.push(".", text)
        # the start directory's own .gitignore is read by _walk_dir
        parts = start.parts
        ancestors = [".", *("/".join(parts[:i]) for i in range(1, len(parts)))] if parts else []
        for rel in ancestors:
            with contextlib.suppress(SandboxDenied, OSError), self.sandbox.open_dir(rel) as fd:
                text = _read_small(self.sandbox, fd, rel, ".gitignore")
                if text:
                    self.rules.push(rel, text)

    def walk(self, start: Resolved, *, recursive: bool, include_dirs: bool) -> Iterator[Entry]:
        """Yield entries under `start` (a resolved directory)."""
        self._load_ancestor_rules(start)
        with self.sandbox.open_dir(start.rel) as fd:
            yield from self._walk_dir(fd, start.rel, 0, recursive, include_dirs)

    def _scan(self, handle: Any, rel_dir: str) -> list[os.DirEntry[str]]:
        target = handle if HAVE_DIR_FD else os.path.join(self.sandbox.root, rel_dir)
        try:
            with os.scandir(target) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError:
            self.stats.unreadable += 1
            return []

    def _walk_dir(
        self, handle: Any, rel_dir: str, depth: int, recursive: bool, include_dirs: bool
    ) -> Iterator[Entry]:
        pushed = False
        if not self.include_ignored:
            text = _read_small(self.sandbox, handle, rel_dir, ".gitignore")
            pushed = bool(text) and self.rules.push(rel_dir, text or "")
        try:
            for entry in self._scan(handle, rel_dir):
                if self.cancel is not None and getattr(self.cancel, "cancelled", False):
                    return
                yield from self._visit(handle, rel_dir, entry, depth, recursive, include_dirs)
        finally:
            if pushed:
                self.rules.pop()

    def _visit(
        self,
        handle: Any,
        rel_dir: str,
        entry: os.DirEntry[str],
        depth: int,
        recursive: bool,
        include_dirs: bool,
    ) -> Iterator[Entry]:
        name, rel = entry.name, _join(rel_dir, entry.name)
        if name.casefold() in VCS_DIRS:
            return
        if not is_text(name):
            self.stats.invalid_names += 1
            return
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
            st = entry.stat(follow_symlinks=False)
        except OSError:
            self.stats.unreadable += 1
            return
        if self.sandbox.is_secret(rel):
            return  # not counted either: a count would say whether a secret file exists
        if not self.include_ignored and (
            (is_dir and name in NOISE_DIRS) or self.rules.ignored(rel, is_dir)
        ):
            self.stats.ignored += 1
            return
        if is_link:
            yield from self._visit_link(rel, include_dirs)
            return
        if is_dir and (why := self.sandbox.forbidden_dirs.reason(st)) is not None:
            # a bind mount of '/', the home or the root itself: never listed or searched
            self.stats.notes.append(f"{rel!r} left out: it {why}")
            return
        if is_dir:
            if include_dirs:
                yield Entry(rel, "dir", 0)
            if not recursive:
                return
            if depth + 1 >= self.sandbox.limits.max_depth:
                self.stats.depth_capped += 1
                return
            yield from self._descend(handle, rel, name, depth, include_dirs)
        elif stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1 and is_linked_secret(self.sandbox, st):
                return
            yield Entry(rel, "file", st.st_size)

    def _visit_link(self, rel: str, include_dirs: bool) -> Iterator[Entry]:
        # a link is listed only when it resolves inside the root, and not into .git/ or
        # .mira/ (which are never listed, whatever name leads there); directory links are
        # never descended (that is how walks loop or leave the root)
        try:
            res = self.sandbox.check_visible(rel)
            st = os.stat(res.real)
        except (SandboxDenied, OSError):
            self.stats.links_skipped += 1
            return
        if in_control_dir(res.rel):
            self.stats.links_skipped += 1
            return
        if stat.S_ISREG(st.st_mode):
            yield Entry(rel, "file", st.st_size, link=True)
        elif stat.S_ISDIR(st.st_mode) and include_dirs:
            yield Entry(rel, "dir", 0, link=True)
        else:
            self.stats.links_skipped += 1

    def _descend(
        self, handle: Any, rel: str, name: str, depth: int, include_dirs: bool
    ) -> Iterator[Entry]:
        if not HAVE_DIR_FD:
            real = os.path.join(self.sandbox.root, rel)
            if os.path.realpath(real) != real:
                self.stats.links_skipped += 1
                return
            yield from self._walk_dir(None, rel, depth + 1, True, include_dirs)
            return
        try:
            sub = os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=handle
            )
        except OSError:
            # swapped for a link (or removed) since scandir saw it
            self.stats.links_skipped += 1
            return
        try:
            yield from self._walk_dir(sub, rel, depth + 1, True, include_dirs)
        finally:
            os.close(sub)
