"""Whether git would take a directory for a git directory, by git's own test.

git's repository discovery (``setup_git_directory_gently``) accepts, in the directory it is
run in and every parent, a ``.git`` there *or the directory itself* when it passes
``is_git_directory``: a valid ``HEAD`` (a ``refs/…`` symlink, a ``ref: refs/…`` file or an
object id) and an ``objects/`` it can enter, directly or through a ``commondir`` file. It
follows links for ``objects`` and ``refs`` (``access(X_OK)``), so a link counts as much as a
directory. Such a directory's ``config`` is then obeyed (``core.fsmonitor``, hooks, a
``core.worktree`` pointing back into the project): it is code the user's git runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat

# what git's is_git_directory needs beside HEAD; either makes the directory suspect (refs/
# is not required here on purpose: erring towards "a repository" only costs a HEAD file)
REPOSITORY_MARKS = ("objects", "commondir")
_OBJECT_ID = re.compile(rb"[0-9a-fA-F]{40}")


def valid_head(path: str) -> bool:
    """Whether `path` passes git's ``validate_headref`` (the HEAD of a git directory)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            return os.readlink(path).startswith("refs/")
        return False
    if not stat.S_ISREG(st.st_mode):
        return False  # git would open a FIFO and hang, a directory fails to read
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        head = os.read(fd, 255)
    except OSError:
        return False
    finally:
        os.close(fd)
    if head.startswith(b"ref:"):
        return head[4:].lstrip().startswith(b"refs/")
    return _OBJECT_ID.match(head) is not None


def looks_like_git_dir(full_dir: str) -> bool:
    """Whether git run in (or below) `full_dir` would take it for a git directory."""
    if not valid_head(os.path.join(full_dir, "HEAD")):
        return False
    return any(os.path.lexists(os.path.join(full_dir, mark)) for mark in REPOSITORY_MARKS)
