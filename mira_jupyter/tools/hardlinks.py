"""Hard links to credential files: the same file under a name no check refuses.

A symlink ``notes -> .env`` is caught by resolving it, but a hard link ``notes`` to the
``.env`` inode is a plain regular file. Files with more than one link are rare, so only
they are compared, by (device, inode), with the project's credential files and git config
at the root (and one level into a secret directory such as ``.ssh``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sandbox import Sandbox

_GIT_CONFIGS = (".git/config", ".git/config.worktree")


def secret_inodes(sandbox: Sandbox) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of the root's credential files, read now (git replaces its config)."""
    names = list(_GIT_CONFIGS)
    with contextlib.suppress(OSError), os.scandir(sandbox.root) as entries:
        for entry in entries:
            if not sandbox.is_secret(entry.name):
                continue
            names.append(entry.name)
            if entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError), os.scandir(entry.path) as inner:
                    names += [f"{entry.name}/{e.name}" for e in inner]
    out: set[tuple[int, int]] = set()
    for name in names:
        try:
            st = os.stat(os.path.join(sandbox.root, name), follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out.add((st.st_dev, st.st_ino))
    return out


def is_linked_secret(sandbox: Sandbox, st: os.stat_result) -> bool:
    """Whether `st` (a regular file's stat) is a hard link to a credential file."""
    return st.st_nlink > 1 and stat.S_ISREG(st.st_mode) and (
        (st.st_dev, st.st_ino) in secret_inodes(sandbox)
    )
