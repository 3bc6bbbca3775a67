"""The ``Out[]`` of a ``--plan-only`` cell follows the plan's run.

A plan-only cell returns its `Operation`, and the Run plan button (or ``%mira run``) later
runs that same operation: the engine updates the object in place, so ``Out[n]`` and ``-o``
hold the run's result. What the cell *showed* is another matter: IPython publishes a cell's
value as an ``execute_result``, which no frontend lets a kernel update afterwards, so the
summary under the card kept saying "planned" after the plan had run.

So, where a person can press Run plan (a live widget in an interactive frontend), the value
is shown through ``_ipython_display_`` instead: the same bundle IPython would have computed,
published as ``display_data`` with a display id, and replaced by the operation's new bundle
when its run ends (on the kernel's event loop, whichever cell or button ran it). IPython's
displayhook still binds ``Out[n]`` and ``_`` when an object displays itself. The hook is an
attribute of that one object, used once: later displays of it are ordinary ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from typing import Any

log = logging.getLogger(__name__)

HOOK = "_ipython_display_"


def follow_the_run(operation: Any, session: Any, shell: Any) -> None:
    """Show `operation`'s ``Out[]`` so that it is redrawn when its plan has run."""
    if operation is None or getattr(operation, "status", None) != "planned":
        return
    LiveResult(operation, session, shell).attach()


class LiveResult:
    """One plan-only operation's displayed value, and the update after its run."""

    def __init__(self, operation: Any, session: Any, shell: Any) -> None:
        self.operation = operation
        self.session = session
        self.shell = shell
        self.handle: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self._unsubscribe: Any = None

    def attach(self) -> None:
        """Make the operation's next display (the cell's value) this one's."""
        # an instance attribute: IPython looks the display hook up on the object itself
        setattr(self.operation, HOOK, self.display)

    def bundle(self) -> dict[str, Any]:
        """What IPython would show for the operation now (text/plain, text/markdown)."""
        data, _metadata = self.shell.display_formatter.format(self.operation)
        return data

    def display(self) -> None:
        """The cell's value: published with a display id, then watched until its run ends."""
        from IPython.display import display

        with contextlib.suppress(AttributeError):
            delattr(self.operation, HOOK)  # once: the next display is an ordinary one
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()  # the kernel's: updates are made there
        # the update then goes out as this cell's message (ipykernel keeps the parent header
        # in a context variable), not as the worker thread's, which has none
        self._context = contextvars.copy_context()
        self._unsubscribe = self.session.bus.subscribe(self._on_event)
        self.handle = display(self.bundle(), raw=True, display_id=True)

    def _on_event(self, event: Any) -> None:
        # on the operation's worker thread: the object is final once OperationFinished is out
        if event.operation_id != self.operation.id or event.type != "OperationFinished":
            return
        if event.status == "planned":  # the plan-only run itself ending
            return
        self._unsubscribe()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.update, context=self._context)
        else:
            self.update()

    def update(self) -> None:
        """Replace the shown value with the operation as it is now (its run has ended)."""
        try:
            self.handle.update(self.bundle(), raw=True)
        except Exception:  # a closed frontend or comm: the value itself is right anyway
            log.debug("mira: could not update the plan cell's Out[]", exc_info=True)
