"""The root of mira_jupyter's exceptions (the whole tree is described in ``mira_jupyter.errors``)."""

from __future__ import annotations


class MiraError(Exception):
    """Base class of every error mira_jupyter raises on purpose: ``except MiraError`` catches them."""


class OperationEnding(MiraError):
    """Ends the whole operation (cancelled, over budget, a cap, an unpriced model): a tool
    that meets one lets it through instead of turning it into a tool result."""
