"""What a command changed: two project scans compared, each changed file read once (its
hash for undo, its bytes for the cell's diff when small)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from .project_scan import ProjectScan


@dataclass
class Change:
    """A file the command created, changed or deleted."""

    path: str
    previous: bytes | None  # None: did not exist
    new_sha256: str | None  # None: deleted
    undoable: bool = True
    why_not: str = ""
    new_content: bytes | None = None  # what it holds now, when small enough to show


def digest(path: str, keep_bytes: int) -> tuple[str | None, bytes | None]:
    """The file's SHA-256 and, when it has at most `keep_bytes`, its bytes: one read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, None
    sha = hashlib.sha256()
    kept = bytearray()
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            if len(kept) <= keep_bytes:
                kept += chunk
    return sha.hexdigest(), bytes(kept) if len(kept) <= keep_bytes else None


def mapped_digests(scan: ProjectScan, root: str, mapped: set[tuple[int, int]]) -> dict[str, str]:
    """The SHA-256 now of each scanned file in `mapped` ((device, inode) pairs mapped shared
    and writable): a write through the mapping may leave its stat as it was."""
    if not mapped:
        return {}
    inodes = {ino for _dev, ino in mapped}
    out = {}
    for rel, state in scan.files.items():
        if state.ino in inodes and state.link is None:
            full = os.path.join(root, rel)
            try:
                if (os.lstat(full).st_dev, state.ino) not in mapped:
                    continue
            except OSError:
                continue
            sha, _ = digest(full, 0)
            if sha is not None:
                out[rel] = sha
    return out


def changes(
    before: ProjectScan, after: ProjectScan, root: str, keep_bytes: int = 0, recheck: dict[str, str] | None = None
) -> list[Change]:
    """What differs between two scans, with what undo needs to put each file back. After an
    incomplete scan a file it did not reach is not taken for deleted. A file in `recheck`
    (its SHA-256 before) is compared by content even when its stat is the same."""
    out: list[Change] = []
    recheck = recheck or {}
    for rel in sorted(before.files.keys() | after.files.keys()):
        old, new = before.files.get(rel), after.files.get(rel)
        same = old is not None and new is not None and old.unchanged_from(new)
        if same and (rel not in recheck or digest(os.path.join(root, rel), 0)[0] in (recheck[rel], None)):
            continue
        if new is None and (after.incomplete or _below(rel, after.locked)):
            continue  # unknown, not gone
        full = os.path.join(root, rel)
        if new is not None and new.link is not None:
            out.append(Change(rel, None, None, False, f"a symbolic link to {new.link!r} (not undoable)"))
            continue
        if old is not None and old.link is not None:
            out.append(Change(rel, None, None, False, "a symbolic link was replaced (not undoable)"))
            continue
        new_sha, new_bytes = digest(full, keep_bytes) if new is not None else (None, None)
        if old is None:
            out.append(Change(rel, None, new_sha, new_content=new_bytes))
            continue
        if old.content is None:
            out.append(Change(rel, None, new_sha, False, f"too large to keep for undo ({old.size:,} bytes)"))
            continue
        if new_sha is not None and new_sha == hashlib.sha256(old.content).hexdigest():
            continue  # touched, not changed
        out.append(Change(rel, old.content, new_sha, new_content=new_bytes))
    return out


def _below(rel: str, dirs: list[str]) -> bool:
    return any(d == "." or rel.startswith(d + "/") for d in dirs)
