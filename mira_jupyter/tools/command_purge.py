"""After a sandboxed command: remove what it planted that the user's own tools would run.

A command may write anywhere in the project except the paths bound read-only. Two kinds of
file are never recorded for undo yet are executed later by the host, outside any sandbox:

* a NEW control directory or file (``sub/.git/`` with ``core.fsmonitor`` or hooks, a
  ``.git`` gitfile or link, a ``.mira/``): the user's next ``git status`` in that directory
  runs what it names. Existing ones are bound read-only; absent ones cannot be bound (no
  wildcard mounts), so whatever the command created is removed here.
* bytecode and path hooks (``__pycache__/*.pyc``, ``*.pyc``, ``*.pth``): Python imports a
  forged ``.pyc`` whose header matches its source, and runs a ``.pth`` in a site directory
  at start-up. The sandbox writes no bytecode of its own (``PYTHONDONTWRITEBYTECODE``,
  ``PYTHONPYCACHEPREFIX`` in its ``/tmp``), so any such file a command created or changed is
  deleted here (Python regenerates bytecode from the source).

* a directory made into a repository without a ``.git`` (a valid ``HEAD`` beside ``objects``
  or a ``commondir`` file, links included: tools/git_shape.py), anywhere: git finds such a
  "bare" repository in any directory it is run in below it, and obeys its ``config``. Its
  ``HEAD`` is removed. (Repositories already there are bound read-only.)

All are reported, to the model and to the user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat

from .bwrap import GUARDED_MISSING
from .project_scan import ProjectScan


def _inside(root: str, rel: str) -> str | None:
    full = os.path.normpath(os.path.join(root, rel))
    try:
        return full if os.path.commonpath([root, full]) == root and full != root else None
    except ValueError:
        return None


def _writable_again(func: object, path: str, _exc: object) -> None:
    """rmtree's error hook: a command may have made a directory unwritable (chmod 0)."""
    parent = os.path.dirname(path)
    with contextlib.suppress(OSError):
        st = os.lstat(parent)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(parent, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
    with contextlib.suppress(OSError):
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(path, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def remove_path(full: str) -> bool:
    """Remove a file, link or whole directory tree without following any link; True if gone."""
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        # shutil.rmtree works from directory descriptors and never follows a link inside
        shutil.rmtree(full, onerror=_writable_again)  # type: ignore[arg-type]
    else:
        with contextlib.suppress(OSError):
            os.unlink(full)
    return not os.path.lexists(full)


def _empty_dir(full: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(full).st_mode) and not os.listdir(full)
    except OSError:
        return False


def unmake_repositories(root: str, before: ProjectScan, after: ProjectScan) -> list[str]:
    """Remove the ``HEAD`` of every directory git would take for a repository that the
    command made one (new, moved, or its HEAD changed), wherever it is: caches,
    environments and credential directories included; drop it from `after` so that the
    scan says what is left. One note line for what was removed, one for what could not be."""
    removed, stuck = [], []
    for directory in after.repositories:
        rel = f"{directory}/HEAD" if directory else "HEAD"
        rel = next((h for h in after.heads if h.casefold() == rel.casefold()), rel)
        old, new = before.heads.get(rel), after.heads.get(rel)
        if directory in before.repositories and old is not None and new is not None and old.unchanged_from(new):
            continue  # the user's own repository, bound read-only while the command ran
        full = _inside(root, rel)
        if full is None:
            continue
        if remove_path(full):
            after.files.pop(rel, None)
            after.exec_caches.pop(rel, None)
            removed.append(rel)
        else:
            stuck.append(rel)
    notes = []
    if removed:
        notes.append(
            "removed the HEAD of git repositories the command made without a .git (git would have "
            "run their config outside the sandbox): " + ", ".join(removed)
        )
    if stuck:
        notes.append("could NOT remove the HEAD of git repositories the command made, delete them by hand: " + ", ".join(stuck))
    return notes


def purge_planted(root: str, before: ProjectScan, after: ProjectScan, made: set[str]) -> list[str]:
    """Remove control paths and executable caches the command created or changed; one
    line each for what was removed and for what could not be."""
    notes: list[str] = []
    new_control = (set(after.protected_dirs) | set(after.protected_files)) - set(before.protected_dirs) - set(
        before.protected_files
    )
    removed, stuck = [], []
    for rel in sorted(new_control - made):
        full = _inside(root, rel)
        if full is None or (rel in GUARDED_MISSING and _empty_dir(full)):
            # an empty top-level .git/.mira is the read-only mount point bubblewrap makes for
            # a sandbox still running (a scratch kernel's): removing it would lift that guard
            continue
        (removed if remove_path(full) else stuck).append(rel)
    if removed:
        notes.append(
            "removed control files the command created (git or mira would have run them outside "
            "the sandbox): " + ", ".join(removed)
        )
    if stuck:
        notes.append("could NOT remove control files the command created, delete them by hand: " + ", ".join(stuck))
    planted = [
        rel for rel, state in after.exec_caches.items()
        if (old := before.exec_caches.get(rel)) is None or not old.unchanged_from(state)
    ]  # fmt: skip
    gone, kept = [], []
    for rel in sorted(planted):
        full = _inside(root, rel)
        if full is None:
            continue
        (gone if remove_path(full) else kept).append(rel)
    if gone:
        notes.append(
            "deleted bytecode/.pth files the command wrote (Python would have run them outside the "
            "sandbox): " + ", ".join(gone)
        )
    if kept:
        notes.append("could NOT delete bytecode/.pth files the command wrote, delete them by hand: " + ", ".join(kept))
    return notes


def locked_notes(before: ProjectScan, after: ProjectScan) -> list[str]:
    """What the user must hear of directories the command made unreadable: a forged .pyc
    there is still imported by name while a listing of it fails."""
    notes = []
    if after.unlocked:
        notes.append(
            "the command took away your read or search permission on directories, which hid their "
            "files from the change record: it was given back (u+rwx) and their files were checked: "
            + ", ".join(d + "/" for d in after.unlocked)
        )
    stuck = [d for d in after.locked if d not in before.locked]
    if stuck:
        notes.append(
            "could NOT look into directories the command made unreadable: what it changed there is NOT "
            "recorded for undo and NOT checked for planted bytecode; look at them by hand: "
            + ", ".join(d + "/" for d in stuck)
        )
    return notes
