"""The operation's token cap as reservations, the way budget.py holds the dollar budget.

A call reserves its worst case in tokens (its prompt's bound, `prompt_bound.ProviderCounts`,
which no provider's count exceeds whatever its tokenizer, plus the ``max_tokens`` it is sent)
before it goes out, and releases the reservation once its usage is in the ledger, on any exit. Calls running at the same time (parallel delegations, side-by-side
tasks) therefore see each other: what is in flight is already counted, so together they
never pass ``max_total_tokens``. A call that does not fit waits for the calls in flight to
settle, sends fewer output tokens if that is enough, and otherwise ends the step with
``CapReached`` before anything is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..core.cancel import CancelToken, OperationCancelled
from ..core.errors import OperationEnding
from .budget import WAIT_FOR_TURN_SECONDS
from .prompt_bound import PromptShape, ProviderCounts

# A call that does not fit only because others are in flight waits this long for them; a
# reasoning call may stream for many minutes, and every exit of CallRunner.call releases
# its reservation, so this only bounds a bug: a kernel never hangs on it.
WAIT_FOR_ROOM_SECONDS = WAIT_FOR_TURN_SECONDS
_POLL_SECONDS = 0.25


class CapReached(OperationEnding):
    """A loop or token cap was hit; the step ends with this message."""


@dataclass
class TokenReservation:
    """Tokens set aside for one call in flight (every attempt of it, if it is retried)."""

    tokens: int
    max_output_tokens: int
    per_attempt: int
    settled: bool = False


class TokenCap:
    """`limit` tokens for one operation: what the ledger counted plus what is in flight."""

    def __init__(self, limit: int, used: Callable[[], int], counts: ProviderCounts | None = None) -> None:
        self.limit = limit
        self._used = used  # tokens of the calls already settled (the ledger's count)
        self._reserved = 0
        self._lock = threading.Condition(threading.Lock())
        # what providers counted for the session's prompts, by prefix (prompt_bound.py)
        self.counts = counts if counts is not None else ProviderCounts()

    def prompt_bound(self, shape: PromptShape) -> int:
        """What this cap reserves for a prompt (ProviderCounts.bound)."""
        return self.counts.bound(shape)

    @property
    def reserved(self) -> int:
        """Tokens reserved by calls in flight."""
        with self._lock:
            return self._reserved

    def reserve(
        self,
        input_tokens: int,
        want_output: int,
        min_output: int,
        cancel: CancelToken,
        wait_seconds: float = WAIT_FOR_ROOM_SECONDS,
    ) -> TokenReservation:
        """Reserve `input_tokens` + as many output tokens as fit, up to `want_output` and no
        fewer than `min_output`; wait for calls in flight when only they are in the way.

        Raises CapReached when the call cannot fit, OperationCancelled when cancelled while
        waiting.
        """
        min_output = min(min_output, want_output)
        with self._lock:
            waited = 0.0
            while True:
                used = self._used()
                room = self.limit - used - self._reserved
                fit = min(want_output, room - input_tokens)
                if fit >= max(min_output, 1):
                    amount = input_tokens + fit
                    self._reserved += amount
                    return TokenReservation(amount, fit, amount)
                if cancel.cancelled:
                    raise OperationCancelled(cancel.reason)
                if self._reserved == 0 or waited >= wait_seconds:
                    raise CapReached(self._describe(used, input_tokens + max(min_output, 1)))
                self._lock.wait(_POLL_SECONDS)
                waited += _POLL_SECONDS

    def extend(self, reservation: TokenReservation) -> None:
        """Reserve one more attempt of the same call (a retry resends its whole prompt), or
        raise CapReached: it is not sent."""
        with self._lock:
            if reservation.settled:
                return
            used = self._used()
            if self.limit - used - self._reserved < reservation.per_attempt:
                raise CapReached(self._describe(used, reservation.per_attempt, retry=True))
            self._reserved += reservation.per_attempt
            reservation.tokens += reservation.per_attempt

    def release(self, reservation: TokenReservation) -> None:
        """The call's usage is in the ledger (or it was never sent): free what it held."""
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            self._reserved -= reservation.tokens
            self._lock.notify_all()

    def _describe(self, used: int, need: int, retry: bool = False) -> str:
        in_flight = f" (+{self._reserved:,} reserved by calls in flight)" if self._reserved else ""
        what = "a retry of the last call" if retry else "the next call"
        return (
            f"token cap reached: {used:,} tokens used{in_flight}, {what} may use up to "
            f"{need:,} (limit {self.limit:,}; Mira.max_total_tokens raises it)"
        )
