"""Tests that really run commands in bubblewrap: skipped where it cannot confine one, except
where ``MIRA_REQUIRE_BWRAP=1`` (set by scripts/test.sh wherever bubblewrap can be installed)
turns the missing sandbox into a failure."""

from __future__ import annotations

import os

from mira_jupyter.tools import bwrap


def require_bwrap(*, module_level: bool = True) -> None:
    """Skip the calling test (module) without a working bubblewrap; fail under MIRA_REQUIRE_BWRAP=1."""
    import pytest  # only test code calls this; the package itself never needs pytest

    bwrap.check_available.cache_clear()
    if bwrap.check_available().ok:
        return
    if os.environ.get("MIRA_REQUIRE_BWRAP"):
        raise RuntimeError(f"MIRA_REQUIRE_BWRAP is set but: {bwrap.unavailable_reason()}")
    pytest.skip(f"bubblewrap unavailable: {bwrap.unavailable_reason()}", allow_module_level=module_level)
