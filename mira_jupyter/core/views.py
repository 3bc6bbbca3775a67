"""The view names and ``MIRA_VIEW``, read the same way by the config and by a cell (r14d F3)."""

from __future__ import annotations

import os
from collections.abc import Mapping

VIEWS = ("auto", "widget", "text")


def view_from_env(env: Mapping[str, str] | None = None) -> str:
    """``MIRA_VIEW`` (auto when unset); a value naming no view is one clear line, not auto."""
    env = os.environ if env is None else env
    raw = env.get("MIRA_VIEW", "")
    value = raw.strip().lower() or "auto"
    if value not in VIEWS:
        raise ValueError(f"MIRA_VIEW must be auto, widget or text, got {raw!r}")
    return value
