"""Checking what a magic was given: the usage error and the option parsers the magics share."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from IPython.core.error import UsageError

from ..core.errors import MiraError


class MiraUsageError(MiraError, UsageError):
    """A bad option or argument. IPython shows it as one line, with no traceback, and the
    cell fails, so Run All and nbval stop there."""


class OperationInterrupted(KeyboardInterrupt):
    """A ``%%mira`` cell whose operation was cancelled (the kernel's interrupt or the Stop
    button). Raised once the operation has ended and its output is drawn, so the cell ends
    interrupted, as a Python cell stopped with ■ does, and Run All stops there instead of
    running the cells below on a half-done change. A KeyboardInterrupt, not a MiraError:
    ``except Exception`` must not swallow it. Shown as one line."""


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


def install_usage_error_display(shell: Any) -> None:
    """Show a MiraUsageError as IPython shows its own UsageError: one line, no traceback
    (and an OperationInterrupted as one line too).

    IPython takes that short path only for ``type(exc) is UsageError``, so a subclass needs
    a custom exception handler. A handler someone else installed keeps its exceptions.
    """
    if getattr(shell, "_mira_previous_custom_exc", None) is not None:
        return  # already installed
    previous_types = tuple(shell.custom_exceptions)
    previous_handler = shell.CustomTB

    def handler(self: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
        if issubclass(etype, MiraUsageError):
            self.show_usage_error(value)
            return []
        if issubclass(etype, OperationInterrupted):
            print(f"Interrupted: {value}", file=sys.stderr)  # the cell's output above says the rest
            return []
        return previous_handler(etype, value, tb, tb_offset=tb_offset)

    shell._mira_previous_custom_exc = (previous_types, previous_handler)
    shell.set_custom_exc((*previous_types, MiraUsageError, OperationInterrupted), handler)


def remove_usage_error_display(shell: Any) -> None:
    """Undo `install_usage_error_display` (the previous handler comes back)."""
    previous = getattr(shell, "_mira_previous_custom_exc", None)
    if previous is None:
        return
    types, handler = previous
    shell.custom_exceptions = types
    shell.CustomTB = handler
    del shell._mira_previous_custom_exc
