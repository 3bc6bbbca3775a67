"""Hard links to credential files: the same file under a name no check refuses.

A symlink ``notes -> .env`` is caught by resolving it, but a hard link ``notes`` to the
``.env`` inode is a plain regular file. Files with more than one link are rare, so only
they are compared, by (device, inode), with every credential file and git config in the
project (``sub/.env.local``, ``.git/modules/m/config``, files inside ``.ssh/``), found by
one bounded walk that is reused for a moment (one tool call sees one set).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING

from .policy import NOISE_DIRS, is_git_config

if TYPE_CHECKING:
    from .sandbox import Sandbox

# entries the walk looks at before it stops: a bound on the cost of one look-up
MAX_ENTRIES = 50_000
# how long one walk's answer is reused: the files of one tool call share it, and git,
# which replaces its config (a new inode), is seen again at the next call
REUSE_SECONDS = 1.0
# inside a .git directory only config files matter: skip its bulk
_GIT_BULK = frozenset({"objects", "refs", "logs", "hooks", "lfs", "info", "rr-cache"})
# .mira holds only the tool's own files; other VCS dirs are not walked either
_SKIP = frozenset({".mira", ".hg", ".svn"})

_cache: weakref.WeakKeyDictionary[Sandbox, tuple[float, frozenset[tuple[int, int]]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def secret_inodes(sandbox: Sandbox) -> frozenset[tuple[int, int]]:
    """(st_dev, st_ino) of the project's credential files and git configs, read recently."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(sandbox)
    if hit is not None and now - hit[0] < REUSE_SECONDS:
        return hit[1]
    found = frozenset(_walk(sandbox))
    with _lock:
        _cache[sandbox] = (time.monotonic(), found)
    return found


def _walk(sandbox: Sandbox) -> set[tuple[int, int]]:
    """Breadth first from the root, never following links, at most MAX_ENTRIES entries."""
    out: set[tuple[int, int]] = set()
    queue: deque[tuple[str, bool]] = deque([("", False)])  # (rel dir, inside a secret dir)
    # node_modules, .venv and the like are walked last, so they cannot use up the bound
    later: deque[tuple[str, bool]] = deque()
    seen = 0
    while (queue or later) and seen < MAX_ENTRIES:
        rel_dir, secret_dir = queue.popleft() if queue else later.popleft()
        if rel_dir.rsplit("/", 1)[-1] in NOISE_DIRS and queue:
            later.append((rel_dir, secret_dir))
            continue
        with contextlib.suppress(OSError), os.scandir(
            os.path.join(sandbox.root, rel_dir) if rel_dir else sandbox.root
        ) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    break
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                _visit(sandbox, entry, rel, secret_dir, queue, out)
    return out


def _visit(
    sandbox: Sandbox,
    entry: os.DirEntry[str],
    rel: str,
    secret_dir: bool,
    queue: deque[tuple[str, bool]],
    out: set[tuple[int, int]],
) -> None:
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return
    low = entry.name.casefold()
    in_git = ".git" in rel.casefold().split("/")[:-1]
    if stat.S_ISDIR(st.st_mode):
        if low in _SKIP or (in_git and low in _GIT_BULK):
            return
        queue.append((rel, secret_dir or sandbox.is_secret(rel)))
    elif stat.S_ISREG(st.st_mode) and (
        secret_dir or is_git_config(rel) or sandbox.is_secret(rel)
    ):
        out.add((st.st_dev, st.st_ino))


def is_linked_secret(sandbox: Sandbox, st: os.stat_result) -> bool:
    """Whether `st` (a regular file's stat) is a hard link to a credential file."""
    return st.st_nlink > 1 and stat.S_ISREG(st.st_mode) and (
        (st.st_dev, st.st_ino) in secret_inodes(sandbox)
    )
