"""Directories below the project root that are another name for the machine (or a loop).

A bind mount of '/' inside the project (a container's ``docker -v /:/mnt/host`` with the
workspace as root), of the home, or of the project root itself makes ``host/etc/...`` a
path "inside" the project that is really outside it. Names cannot tell: the mount point is
an ordinary-looking directory. Identities can: such a directory has the (device, inode) of
'/', of the home, of a directory above the home, or of the root or a directory above it.
The sandbox refuses every path that passes through one, walks do not descend into one, and
the command sandbox covers each with an empty read-only tmpfs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .policy import SandboxDenied

Identity = tuple[int, int]
_MOUNTINFO = "/proc/self/mountinfo"


def _identity(path: str) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _with_ancestors(path: str, itself: str, above: str, out: dict[Identity, str]) -> None:
    """Record `path` as `itself` and every directory above it as `above` (first reason wins)."""
    current, reason = path, itself
    while True:
        identity = _identity(current)
        if identity is not None:
            out.setdefault(identity, reason)
        parent = os.path.dirname(current)
        if parent == current:
            return
        current, reason = parent, above


class ForbiddenDirs:
    """The identities no directory below the project root may have, with the reason why."""

    def __init__(self, root: str) -> None:
        from .roots import home_directories

        found: dict[Identity, str] = {}
        slash = _identity(os.sep)
        if slash is not None:
            found[slash] = "is a mount of the whole file system"
        for home in home_directories():
            _with_ancestors(home, "is a mount of your home directory",
                            "is a mount of a directory above your home", found)
        _with_ancestors(root, "is the project root itself (a mount loop)",
                        "is a directory above the project root (a mount loop)", found)
        self._reasons = found

    def reason(self, st: os.stat_result) -> str | None:
        """Why a directory with this stat may not be entered, or None when it may."""
        return self._reasons.get((st.st_dev, st.st_ino))

    def check_rel(self, root: str, rel: str, path: str) -> None:
        """Raise SandboxDenied if any directory on the way from `root` to `rel` is forbidden.

        One lstat per component (the path is already resolved, so there is no link on it);
        a missing component ends the check: nothing below it exists yet."""
        if rel == ".":
            return
        here = root
        for name in rel.split("/"):
            here = os.path.join(here, name)
            try:
                st = os.lstat(here)
            except OSError:
                return
            why = self._reasons.get((st.st_dev, st.st_ino))
            if why is not None:
                shown = os.path.relpath(here, root).replace(os.sep, "/")
                raise SandboxDenied(
                    "outside_root",
                    f"{path!r}: {shown!r} {why}: the agent cannot go through it",
                )


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as \ooo octal escapes
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mount_points() -> Iterator[str]:
    try:
        with open(_MOUNTINFO, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:  # not Linux, or no /proc: the per-path checks still hold
        return
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:
            yield _unescape(fields[4])


def forbidden_mounts(root: str, forbidden: ForbiddenDirs | None = None) -> list[tuple[str, str]]:
    """(rel, reason) of every mount point strictly below `root` that is a forbidden directory."""
    forbidden = forbidden or ForbiddenDirs(root)
    prefix = root.rstrip(os.sep) + os.sep
    out: list[tuple[str, str]] = []
    for point in sorted(set(_mount_points())):
        if not point.startswith(prefix):
            continue
        try:
            st = os.lstat(point)
        except OSError:
            continue
        why = forbidden.reason(st)
        if why is not None:
            out.append((os.path.relpath(point, root).replace(os.sep, "/"), why))
    # a forbidden mount below another forbidden one is covered by the outer one
    kept: list[tuple[str, str]] = []
    for rel, why in out:
        if not any(rel.startswith(k + "/") for k, _ in kept):
            kept.append((rel, why))
    return kept
