"""The event bus: the engine emits, sinks (views, the recorder) subscribe."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from ..core.events import Event

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Anything that consumes engine events."""

    def __call__(self, event: Event) -> None: ...


class EventBus:
    """Fan events out to subscribers, numbering them per operation.

    A failing subscriber is logged and skipped: a broken view must never break an
    operation or stop the recorder from seeing the event.
    """

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self._seq: dict[str, int] = {}
        self._lock = threading.Lock()
        # an operation's delegations may run on several threads at once: its events are
        # still numbered and delivered one at a time, in order (other operations go on)
        self._delivery: dict[str, threading.RLock] = {}

    def subscribe(self, sink: Sink) -> Callable[[], None]:
        """Add a sink; returns a function that removes it again."""
        with self._lock:
            self._sinks.append(sink)

        def unsubscribe() -> None:
            with self._lock:
                if sink in self._sinks:
                    self._sinks.remove(sink)

        return unsubscribe

    def emit(self, event: Event) -> Event:
        """Number the event and deliver it to every sink, in subscription order."""
        with self._lock:
            delivery = self._delivery.setdefault(event.operation_id, threading.RLock())
        with delivery:
            with self._lock:
                seq = self._seq.get(event.operation_id, 0) + 1
                self._seq[event.operation_id] = seq
                sinks = list(self._sinks)
            event.seq = seq
            for sink in sinks:
                try:
                    sink(event)
                except Exception:  # a sink must not break the engine
                    log.exception("event sink %r failed on %s", sink, event.type)
        return event

    def forget(self, operation_id: str) -> None:
        """Drop the sequence counter of a finished operation."""
        with self._lock:
            self._seq.pop(operation_id, None)
            self._delivery.pop(operation_id, None)
