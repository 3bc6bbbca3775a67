"""Project files a (frozen) scratch kernel holds mapped shared and writable.

A write through such a mapping to a page already made writable by an earlier write does
not fault, so the kernel does not touch the file's mtime or ctime: a change made in one
``run_code`` call through a mapping set up in an earlier one keeps every field of the
file's stat. Those files are compared by content instead (tools/project_changes.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def shared_writable_inodes(pids: Iterable[int]) -> set[tuple[int, int]]:
    """(device, inode) of every file mapped MAP_SHARED with PROT_WRITE by `pids`."""
    out: set[tuple[int, int]] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                lines = f.readlines()
        except OSError:
            continue  # gone, or not ours to read
        for line in lines:
            fields = line.split(maxsplit=5)
            if len(fields) < 5 or fields[1][1:2] != "w" or fields[1][3:4] != "s":
                continue
            major, _, minor = fields[3].partition(":")
            try:
                inode = int(fields[4])
                device = os.makedev(int(major, 16), int(minor, 16))
            except ValueError:
                continue
            if inode:
                out.add((device, inode))
    return out
