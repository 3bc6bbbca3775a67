"""Cooperative cancellation shared by the engine, the model client and the tools."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from .errors import OperationEnding


class OperationCancelled(OperationEnding):
    """Raised inside the engine when the user stopped the operation."""


class CancelToken:
    """A flag plus callbacks run once on cancel (e.g. closing an in-flight HTTP stream)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.reason = "cancelled by user"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Set the flag and run the registered callbacks (each at most once)."""
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            # closing a stream that already ended may fail; cancel anyway
            with contextlib.suppress(Exception):
                callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when cancelled (at once if already); returns a remover."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def remove() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return remove
        callback()
        return lambda: None

    def raise_if_cancelled(self) -> None:
        """Raise OperationCancelled if the token is set."""
        if self._event.is_set():
            raise OperationCancelled(self.reason)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on cancel; returns True if cancelled."""
        return self._event.wait(seconds)
