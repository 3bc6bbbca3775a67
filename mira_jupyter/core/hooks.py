"""Slots an upper layer fills so that a lower one can call it without importing it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .events import Cost, Usage

# (provider:model, recorded request, partial output) -> estimated usage and its cost.
# Store recovery prices a call cut by a dead kernel with it; the package's __init__ fills
# it (lazily importing the model layer), so a process that only opens the store prices
# such calls too instead of leaving them unpriced for good.
cut_call_estimator: Callable[[str, str, str], tuple[Usage, Cost]] | None = None
