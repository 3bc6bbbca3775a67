"""Descriptor flags and path splitting shared by the sandbox and its atomic writes."""

from __future__ import annotations

import os

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
DIRECTORY = getattr(os, "O_DIRECTORY", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# Without dir_fd support (Windows) opens fall back to full paths re-checked after opening.
HAVE_DIR_FD = os.open in os.supports_dir_fd and bool(NOFOLLOW) and bool(DIRECTORY)


def split_rel(rel: str) -> tuple[str, str]:
    """A POSIX relative path as (parent, name); the parent of a top-level name is '.'."""
    parent, _, name = rel.rpartition("/")
    return parent or ".", name
