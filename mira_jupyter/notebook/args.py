"""Checking what a magic was given: the usage error and the option parsers the magics share."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from IPython.core.error import UsageError

from ..core.errors import MiraError


class MiraUsageError(MiraError, UsageError):
    """A bad option or argument. IPython shows it as one line, with no traceback, and the
    cell fails, so Run All and nbval stop there."""


def parse_budget(value: str | None) -> Decimal | None:
    """``--budget`` as a positive, finite amount in USD (``$0.50`` or ``0.50``); None if absent."""
    from ..engine.settings import check_budget

    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise MiraUsageError(f"--budget must be an amount in USD such as 0.50, got {value!r}") from None
    try:
        return check_budget(amount, "--budget")
    except ValueError as exc:
        raise MiraUsageError(str(exc)) from None
