"""The operation's token cap as reservations, the way budget.py holds the dollar budget.

A call reserves its worst case in tokens (its prompt's bound, `prompt_token_bound`, plus the
``max_tokens`` it is sent) before it goes out, and releases the reservation once its usage is in the
ledger, on any exit. Calls running at the same time (parallel delegations, side-by-side
tasks) therefore see each other: what is in flight is already counted, so together they
never pass ``max_total_tokens``. A call that does not fit waits for the calls in flight to
settle, sends fewer output tokens if that is enough, and otherwise ends the step with
``CapReached`` before anything is sent.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..core.cancel import CancelToken, OperationCancelled
from ..core.errors import OperationEnding
from .budget import DEFAULT_INPUT_MARGIN, WAIT_FOR_TURN_SECONDS

# A call that does not fit only because others are in flight waits this long for them; a
# reasoning call may stream for many minutes, and every exit of CallRunner.call releases
# its reservation, so this only bounds a bug: a kernel never hangs on it.
WAIT_FOR_ROOM_SECONDS = WAIT_FOR_TURN_SECONDS
_POLL_SECONDS = 0.25


# The margin over our own count (tiktoken o200k_base) at which a prompt is reserved: for a
# model whose provider counts with that same tokenizer (OpenAI's gpt-4o, 4.1, 5 and o-series:
# the capability table's "tokenizer"), 10% for the framing of messages and tool schemas our
# count approximates; for any other, DEFAULT_INPUT_MARGIN (35%), the allowance the money
# code gives another tokenizer (DeepSeek's, Anthropic's, a local model's).
OWN_TOKENIZER = "o200k_base"
OWN_TOKENIZER_MARGIN = 1.10


def base_margin(model: object) -> float:
    """The margin `model`'s prompts are reserved at until a reply shows it needs more."""
    capabilities = getattr(model, "capabilities", None)
    own = getattr(capabilities, "tokenizer", None) == OWN_TOKENIZER
    return OWN_TOKENIZER_MARGIN if own else DEFAULT_INPUT_MARGIN


def prompt_token_bound(prompt_tokens: int, opaque_bytes: int = 0, margin: float = DEFAULT_INPUT_MARGIN) -> int:
    """The tokens the cap reserves for a prompt our tokenizer (tiktoken o200k_base) counts at
    `prompt_tokens`: that count times `margin` (see OWN_TOKENIZER_MARGIN), plus the bytes of
    replayed reasoning no client can tokenize (`opaque_bytes`, a bound on its tokens).

    Unlike the dollar budget, the cap does not reserve a prompt at its UTF-8 bytes: those are
    about 4.5 times the tokens of Python code, so runs stopped at half the cap and a prompt
    of a quarter of it was refused unsent.
    """
    return math.ceil(prompt_tokens * max(1.0, margin)) + max(0, opaque_bytes)


class PromptMargins:
    """The margin each model's prompts are reserved at, learned over a session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learned: dict[str, float] = {}  # model id -> the margin a reply showed it needs

    def bound(self, model: object, prompt_tokens: int, opaque_bytes: int = 0) -> int:
        """`prompt_token_bound` at `model`'s margin: `base_margin`, or the larger one a reply
        of it in this session showed it needs."""
        with self._lock:
            learned = self._learned.get(getattr(model, "model_id", ""), 0.0)
        return prompt_token_bound(prompt_tokens, opaque_bytes, max(base_margin(model), learned))

    def observe(self, model: object, reported_input: int, prompt_tokens: int, opaque_bytes: int = 0) -> None:
        """Learn from a reply's reported prompt tokens: a provider that counted more than the
        prompt's bound (a tokenizer above the margin) has its later prompts reserved at the
        ratio it showed, plus 2%. So only calls in flight when it first shows it can pass the
        cap, by what they were counted beyond their bound."""
        if prompt_tokens <= 0 or reported_input <= self.bound(model, prompt_tokens, opaque_bytes):
            return
        needed = (reported_input - max(0, opaque_bytes)) / prompt_tokens * 1.02
        key = getattr(model, "model_id", "")
        with self._lock:
            self._learned[key] = max(needed, self._learned.get(key, 0.0))


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

    def __init__(self, limit: int, used: Callable[[], int], margins: PromptMargins | None = None) -> None:
        self.limit = limit
        self._used = used  # tokens of the calls already settled (the ledger's count)
        self._reserved = 0
        self._lock = threading.Condition(threading.Lock())
        # what replies taught about the models' tokenizers, kept for the whole session
        self.margins = margins if margins is not None else PromptMargins()

    def prompt_bound(self, model: object, prompt_tokens: int, opaque_bytes: int = 0) -> int:
        """What this cap reserves for `model`'s prompt (PromptMargins.bound)."""
        return self.margins.bound(model, prompt_tokens, opaque_bytes)

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
