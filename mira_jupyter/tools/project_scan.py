"""Before and after a sandboxed command: what the project holds, so that every file the
command created, changed or deleted is recorded for ``%mira undo``, and so that control
directories and credential files can be bound read-only or hidden from it."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from .policy import PROTECTED_DIR_NAMES

# regenerated caches and environments: scanned for control and credential names only,
# their files are not recorded (a pytest run writes hundreds of .pyc files)
UNRECORDED_DIRS = frozenset(
    {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".venv", "venv",
     "node_modules", ".tox", ".nox", ".ipynb_checkpoints"}
)  # fmt: skip
# files the host's Python executes without reading their source: tracked everywhere (even
# in unrecorded dirs) so that one a command planted is found and deleted afterwards
EXEC_CACHE_SUFFIXES = (".pyc", ".pyo", ".pth")
# Python environments: their files are not recorded, yet the user's Python runs them (a
# changed site-packages module, a bin/ script), so existing ones are bound read-only
ENV_DIRS = frozenset({".venv", "venv", ".tox", ".nox"})


@dataclass
class FileState:
    """One regular file (or link) as it was."""

    size: int
    mtime_ns: int
    ino: int
    link: str | None = None  # the target, for a symlink
    content: bytes | None = None  # kept when small enough to restore


@dataclass
class ProjectScan:
    """The project's files, and the paths the sandbox must protect or hide."""

    files: dict[str, FileState] = field(default_factory=dict)
    protected_dirs: list[str] = field(default_factory=list)  # .git/.mira anywhere
    protected_files: list[str] = field(default_factory=list)  # the log, skills dirs
    secret_files: list[str] = field(default_factory=list)
    secret_dirs: list[str] = field(default_factory=list)
    # bytecode and .pth files: (size, mtime_ns, inode, mode) by path
    exec_caches: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    env_dirs: list[str] = field(default_factory=list)  # Python environments in the project
    incomplete: str | None = None  # why the scan stopped early


@dataclass
class Change:
    """A file the command created, changed or deleted."""

    path: str
    previous: bytes | None  # None: did not exist
    new_sha256: str | None  # None: deleted
    undoable: bool = True
    why_not: str = ""


def _entries(root: str, rel: str) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            yield from it
    except OSError:
        return


def scan(
    sandbox: object,
    *,
    keep_bytes: int = 2 * 1024 * 1024,
    keep_total: int = 64 * 1024 * 1024,
    max_entries: int = 200_000,
    keep: bool = True,
) -> ProjectScan:
    """Walk the project once (no links followed); with `keep`, keep small files' bytes."""
    root: str = sandbox.root  # type: ignore[attr-defined]
    # the log and skill folders inside the project, as relative paths: checked per entry
    # by a set lookup rather than the sandbox's general (slower) test
    protected = _protected_rels(sandbox, root)
    out = ProjectScan()
    kept = 0
    seen = 0
    stack: list[tuple[str, bool, bool]] = [("", True, False)]  # (dir, files recorded, a cache)
    while stack:
        rel_dir, record, in_cache = stack.pop()
        for entry in _entries(root, rel_dir):
            seen += 1
            if seen > max_entries:
                out.incomplete = f"more than {max_entries:,} entries"
                return out
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name.casefold() in PROTECTED_DIR_NAMES:
                    out.protected_dirs.append(rel)
                elif sandbox.is_secret(rel):  # type: ignore[attr-defined]
                    out.secret_dirs.append(rel)
                elif _under(rel, protected):
                    out.protected_dirs.append(rel)  # a skills folder inside the project
                else:
                    if entry.name in ENV_DIRS:
                        out.env_dirs.append(rel)
                    stack.append(
                        (rel, record and entry.name not in UNRECORDED_DIRS, in_cache or entry.name == "__pycache__")
                    )
                continue
            if sandbox.is_secret(rel):  # type: ignore[attr-defined]
                out.secret_files.append(rel)
                continue
            if entry.name.casefold() in PROTECTED_DIR_NAMES or _under(rel, protected):
                out.protected_files.append(rel)  # a worktree's .git file, the log
                continue
            if in_cache or entry.name.endswith(EXEC_CACHE_SUFFIXES):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                out.exec_caches[rel] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode)
                continue
            if not record:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                try:
                    target = os.readlink(os.path.join(root, rel))
                except OSError:
                    continue
                out.files[rel] = FileState(st.st_size, st.st_mtime_ns, st.st_ino, link=target)
            elif stat.S_ISREG(st.st_mode):
                state = FileState(st.st_size, st.st_mtime_ns, st.st_ino)
                if keep and st.st_size <= keep_bytes and kept + st.st_size <= keep_total:
                    state.content = _read(os.path.join(root, rel))
                    kept += len(state.content or b"")
                out.files[rel] = state
    return out


def _protected_rels(sandbox: object, root: str) -> frozenset[str]:
    out = set()
    for location in sandbox.protected_locations():  # type: ignore[attr-defined]
        real = os.path.realpath(location)
        try:
            if os.path.commonpath([root, real]) == root and real != root:
                out.add(os.path.relpath(real, root).replace(os.sep, "/").casefold())
        except ValueError:
            continue
    return frozenset(out)


def _under(rel: str, protected: frozenset[str]) -> bool:
    if not protected:
        return False
    low = rel.casefold()
    return low in protected or any(low.startswith(p + "/") for p in protected)


def _read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _sha256(path: str) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def changes(before: ProjectScan, after: ProjectScan, root: str) -> list[Change]:
    """What differs between two scans, with what undo needs to put each file back."""
    out: list[Change] = []
    for rel in sorted(before.files.keys() | after.files.keys()):
        old, new = before.files.get(rel), after.files.get(rel)
        if old is not None and new is not None and (
            (old.size, old.mtime_ns, old.ino, old.link) == (new.size, new.mtime_ns, new.ino, new.link)
        ):
            continue
        full = os.path.join(root, rel)
        if new is not None and new.link is not None:
            out.append(Change(rel, None, None, False, f"a symbolic link to {new.link!r} (not undoable)"))
            continue
        if old is not None and old.link is not None:
            out.append(Change(rel, None, None, False, "a symbolic link was replaced (not undoable)"))
            continue
        new_sha = _sha256(full) if new is not None else None
        if old is None:
            out.append(Change(rel, None, new_sha))
            continue
        if old.content is None:
            out.append(Change(rel, None, new_sha, False, f"too large to keep for undo ({old.size:,} bytes)"))
            continue
        if new_sha is not None and new_sha == hashlib.sha256(old.content).hexdigest():
            continue  # touched, not changed
        out.append(Change(rel, old.content, new_sha))
    return out
