"""Before and after a sandboxed command: what the project holds, so that every file the
command created, changed or deleted is recorded for ``%mira undo``, and so that control
directories and credential files can be bound read-only or hidden from it."""

from __future__ import annotations

import os
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .git_shape import looks_like_git_dir
from .mount_loops import forbidden_mounts
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
# environments: their files are not recorded, yet the user's Python or node runs them (a
# changed site-packages module, a bin/ script, a package's index.js), so existing ones are
# bound read-only and a new one is reported
ENV_DIRS = frozenset({".venv", "venv", ".tox", ".nox", "node_modules"})


# the cap of one scan: past it the project is too large to record (the scan before a
# command refuses it; the scan after goes on looking for what must not stay, names only)
MAX_ENTRIES = 200_000
# a file read for undo is reused by the next scan only if its ctime is older than that
# scan's start by this much: a write in the same clock tick as the read would keep its ctime
RACY_NS = 2_000_000_000


@dataclass
class FileState:
    """One regular file (or link) as it was."""

    size: int
    mtime_ns: int
    ino: int
    link: str | None = None  # the target, for a symlink
    content: bytes | None = None  # kept when small enough to restore
    ctime_ns: int = 0
    mode: int = 0

    @classmethod
    def of(cls, st: os.stat_result, link: str | None = None) -> FileState:
        """The state `st` (an lstat) describes."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, link, None, st.st_ctime_ns, st.st_mode)

    def unchanged_from(self, other: FileState) -> bool:
        """Whether `other` is this same file untouched. The ctime is compared too: a command
        can put a file's size and mtime back (os.utime), never its ctime."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino, self.mode, self.link) == (
            other.size, other.mtime_ns, other.ctime_ns, other.ino, other.mode, other.link
        )  # fmt: skip


@dataclass
class ProjectScan:
    """The project's files, and the paths the sandbox must protect or hide."""

    files: dict[str, FileState] = field(default_factory=dict)
    protected_dirs: list[str] = field(default_factory=list)  # .git/.mira anywhere
    protected_files: list[str] = field(default_factory=list)  # the log, skills dirs
    secret_files: list[str] = field(default_factory=list)
    secret_dirs: list[str] = field(default_factory=list)
    # bytecode and .pth files, anywhere (caches, environments, credential dirs too)
    exec_caches: dict[str, FileState] = field(default_factory=dict)
    env_dirs: list[str] = field(default_factory=list)  # environments (.venv, node_modules)
    # every file or link named HEAD, anywhere, and the directories git takes for repositories
    heads: dict[str, FileState] = field(default_factory=dict)
    repositories: list[str] = field(default_factory=list)
    incomplete: str | None = None  # why files stopped being recorded
    started_ns: int = 0
    # directories without read and search permission for their owner (chmod 000 / 0111):
    # their files hide from a scan, not from Python, which opens a .pyc there by name
    locked: list[str] = field(default_factory=list)  # left as they were, not looked into
    unlocked: list[str] = field(default_factory=list)  # given u+rwx back, then looked into


def _locked(path: str) -> int | None:
    """The mode of directory `path` if its owner may not list or search it, else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & (stat.S_IRUSR | stat.S_IXUSR) == stat.S_IRUSR | stat.S_IXUSR:
        return None
    return st.st_mode


def _unlock(path: str, mode: int) -> bool:
    """Give the owner read, write and search on directory `path` back, never through a link."""
    try:
        fd = os.open(path, getattr(os, "O_PATH", os.O_RDONLY) | os.O_NOFOLLOW | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        os.chmod(f"/proc/self/fd/{fd}", stat.S_IMODE(mode) | stat.S_IRWXU)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _entries(root: str, rel: str, out: ProjectScan, unlock: bool, leave: set[str]) -> Iterator[os.DirEntry[str]]:
    """The directory's entries; a locked one is given back its owner's permissions (with
    `unlock`, unless in `leave`) or else recorded in ``out.locked`` and not looked into."""
    path = os.path.join(root, rel) if rel else root
    mode = _locked(path)
    if mode is not None:
        if not unlock or (rel or ".") in leave or not _unlock(path, mode):
            out.locked.append(rel or ".")
            return
        out.unlocked.append(rel or ".")
    try:
        with os.scandir(path) as it:
            yield from it
    except PermissionError:
        out.locked.append(rel or ".")  # another owner's: cannot be given back
    except OSError:
        return


# the last scan that kept files' bytes, per project root: the next one reuses the bytes of
# every file whose state is unchanged instead of reading the project again
_KEPT: dict[str, tuple[int, dict[str, FileState]]] = {}
_KEPT_ROOTS = 2  # a kernel works in one project; a second kept for a notebook moved
_KEPT_LOCK = threading.Lock()  # parallel delegations may run commands at once


def _reusable(prev: FileState | None, state: FileState, prev_started: int) -> bytes | None:
    if prev is None or prev.content is None or not prev.unchanged_from(state):
        return None
    if max(prev.ctime_ns, prev.mtime_ns) >= prev_started - RACY_NS:
        return None  # changed shortly before that read: a later write could keep its ctime
    return prev.content


# the credential test per path, remembered per sandbox: its answer depends on the name only,
# and the scans before and after every command ask it of the same paths
_SECRET_MEMOS: weakref.WeakKeyDictionary[object, dict[str, bool]] = weakref.WeakKeyDictionary()


_MEMO_PATHS = 50_000  # a project's own paths; a flood's are tested, not remembered


def _secret_memo(sandbox: object) -> Callable[[str, str], bool]:
    memo = _SECRET_MEMOS.setdefault(sandbox, {})
    test = sandbox.is_secret_entry  # type: ignore[attr-defined]

    def is_secret(rel: str, name: str) -> bool:
        found = memo.get(rel)
        if found is None:
            found = test(rel, name)
            if len(memo) < _MEMO_PATHS:
                memo[rel] = found
        return found

    return is_secret


@dataclass
class _Walk:
    """One directory to list, and what its entries are for."""

    rel: str
    record: bool = True  # its files are recorded for undo
    in_cache: bool = False  # below a __pycache__
    names_only: bool = False  # a credential directory: looked into for planted shapes only


def scan(
    sandbox: object,
    *,
    keep_bytes: int = 2 * 1024 * 1024,
    keep_total: int = 64 * 1024 * 1024,
    max_entries: int | None = None,
    keep: bool = True,
    finish: bool = False,
    hidden: Iterable[str] = (),
    unlock: bool = False,
    leave_locked: Iterable[str] = (),
) -> ProjectScan:
    """Walk the project once (no links followed); with `keep`, keep small files' bytes.

    Past `max_entries` files stop being recorded (``incomplete`` says so); with `finish`
    the walk still goes to the end for control paths, HEADs, bytecode and environments, and
    looks into new credential directories too (`hidden`: those the command could not see).
    With `unlock`, a directory its owner cannot list or search (except those in
    `leave_locked`, locked before the command) is given u+rwx back and looked into.
    """
    root: str = sandbox.root  # type: ignore[attr-defined]
    cap = MAX_ENTRIES if max_entries is None else max_entries
    # the log and skill folders inside the project, as relative paths: checked per entry
    # by a set lookup rather than the sandbox's general (slower) test
    protected = _protected_rels(sandbox, root)
    is_secret = _secret_memo(sandbox)
    skip = set(hidden)
    leave = set(leave_locked)
    # bind mounts of '/', the home or the root below it: the host, not the project
    mounted = {rel for rel, _ in forbidden_mounts(root, getattr(sandbox, "forbidden_dirs", None))}
    out = ProjectScan(started_ns=time.time_ns())
    prev_started, prev = _KEPT.get(root, (0, {})) if keep else (0, {})
    kept_files: dict[str, FileState] = {}
    kept = seen = 0
    head_dirs: list[str] = []
    stack = [_Walk("")]
    while stack:
        walk = stack.pop()
        for entry in _entries(root, walk.rel, out, unlock, leave):
            seen += 1
            if seen > cap and out.incomplete is None:
                out.incomplete = f"more than {cap:,} entries"
                if not finish:
                    return out
            name = entry.name
            rel = f"{walk.rel}/{name}" if walk.rel else name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            low = name.casefold()
            if is_dir:
                if rel in mounted:
                    continue
                if low in PROTECTED_DIR_NAMES:
                    out.protected_dirs.append(rel)
                    continue
                secret = not walk.names_only and is_secret(rel, name)
                if secret:
                    out.secret_dirs.append(rel)
                    if not finish or rel in skip:
                        continue  # hidden from the command: nothing in it changed
                elif not walk.names_only and _under(rel, protected):
                    out.protected_dirs.append(rel)  # a skills folder inside the project
                    continue
                if name in ENV_DIRS:
                    out.env_dirs.append(rel)
                record = walk.record and not secret and name not in UNRECORDED_DIRS
                stack.append(_Walk(rel, record, walk.in_cache or name == "__pycache__", walk.names_only or secret))
                continue
            if low in PROTECTED_DIR_NAMES:
                out.protected_files.append(rel)  # a worktree's .git file
                continue
            if low == "head" or walk.in_cache or name.endswith(EXEC_CACHE_SUFFIXES):
                try:
                    state = FileState.of(entry.stat(follow_symlinks=False))
                except OSError:
                    continue
                if low == "head":  # git's HEAD, if its directory passes git's test
                    out.heads[rel] = state
                    head_dirs.append(walk.rel)
                if walk.in_cache or name.endswith(EXEC_CACHE_SUFFIXES):
                    out.exec_caches[rel] = state
                    continue
            if walk.names_only:
                continue
            if is_secret(rel, name):
                out.secret_files.append(rel)
                continue
            if _under(rel, protected):
                out.protected_files.append(rel)  # the log
                continue
            if not walk.record or out.incomplete:
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
                out.files[rel] = FileState.of(st, link=target)
            elif stat.S_ISREG(st.st_mode):
                state = FileState.of(st)
                if keep and st.st_size <= keep_bytes and kept + st.st_size <= keep_total:
                    state.content = _reusable(prev.get(rel), state, prev_started)
                    stable = state.content is not None
                    if not stable:
                        state.content, stable = _read(os.path.join(root, rel), state)
                    kept += len(state.content or b"")
                    if stable:
                        kept_files[rel] = state
                out.files[rel] = state
    out.repositories = sorted({d for d in head_dirs if looks_like_git_dir(os.path.join(root, d) if d else root)})
    if keep and not out.incomplete:
        with _KEPT_LOCK:
            _KEPT.pop(root, None)
            _KEPT[root] = (out.started_ns, kept_files)
            while len(_KEPT) > _KEPT_ROOTS:
                _KEPT.pop(next(iter(_KEPT)))
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


def _read(path: str, state: FileState) -> tuple[bytes | None, bool]:
    """The file's bytes, and whether it was still the file `state` describes once read
    (one changed meanwhile, by the user's editor, is not reused by the next scan)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, False
    with os.fdopen(fd, "rb") as f:
        data = f.read()
        return data, FileState.of(os.fstat(fd)).unchanged_from(state)
