"""Locate data shipped with the package: migrations and built-in skills."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data `name` ("migrations" or "skills").

    An installed wheel carries it under ``mira_jupyter/_data/``; a source checkout
    (including an editable install) keeps it at the repository root.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mira_jupyter data directory {name!r} is missing from this install")
