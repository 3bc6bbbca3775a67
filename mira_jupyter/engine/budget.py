"""Budgets as reservations: a call reserves its worst case before it is sent, then settles.

Every call reserves ``input estimate + max_tokens sent`` at the model's prices against its
operation's budget and the session's budget, atomically (one lock for both), and settles
to what it really cost when it ends (or to its upper bound when the cost is unknown). A
reservation that does not fit is not sent. So operations running at the same time in one
kernel can never together spend more than the session budget, and one operation never
more than its own: whatever is in flight is already counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.errors import OperationEnding

# Until a model has reported a usage, its prompt is reserved at this multiple of our own
# tokenizer's count (another provider's tokenizer can count more); afterwards at the largest
# reported/estimated ratio seen for it in this session, plus 2%.
DEFAULT_INPUT_MARGIN = 1.35
# How long a call waits for other calls' reservations to settle before giving up. A call
# that would fit once the in-flight calls are settled waits instead of failing at once.
WAIT_FOR_SETTLE_SECONDS = 120.0


class BudgetExceeded(OperationEnding):
    """The next call could overspend the budget; the operation stops cleanly."""


@dataclass
class _Account:
    """What one cap has spent and has reserved for calls in flight."""

    name: str  # "budget" or "session budget"
    cap: Decimal | None
    spent: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)

    def room(self) -> Decimal | None:
        return None if self.cap is None else self.cap - self.spent - self.reserved


class SessionSpend:
    """What the whole session has spent and reserved (operations may overlap)."""

    def __init__(self, cap: Decimal | None = None) -> None:
        self._account = _Account("session budget", cap)
        self.lock = threading.Condition(threading.RLock())
        self._input_ratios: dict[str, float] = {}

    def input_margin(self, model_id: str) -> float:
        """Multiple of our token count to reserve for `model_id`'s prompt."""
        with self.lock:
            seen = self._input_ratios.get(model_id)
        return DEFAULT_INPUT_MARGIN if seen is None else max(1.0, seen * 1.02)

    def observe_input(self, model_id: str, reported: int, estimated: int) -> None:
        """Learn how `model_id`'s provider counts prompts compared with our tokenizer."""
        if estimated <= 0:
            return
        with self.lock:
            ratio = reported / estimated
            self._input_ratios[model_id] = max(ratio, self._input_ratios.get(model_id, 0.0))

    @property
    def cap(self) -> Decimal | None:
        return self._account.cap

    @cap.setter
    def cap(self, value: Decimal | None) -> None:
        with self.lock:
            self._account.cap = value

    @property
    def spent(self) -> Decimal:
        with self.lock:
            return self._account.spent

    @property
    def reserved(self) -> Decimal:
        with self.lock:
            return self._account.reserved

    def charge(self, amount: Decimal) -> None:
        """Add spending that was never reserved (e.g. carried over from an earlier engine)."""
        with self.lock:
            self._account.spent += amount
            self.lock.notify_all()


@dataclass
class Reservation:
    """Money set aside for one call in flight."""

    amount: Decimal
    max_output_tokens: int | None
    accounts: list[_Account] = field(default_factory=list)  # the caps it was counted against
    settled: bool = False


@dataclass
class OperationBudget:
    """One operation's cap (plan-only and its run share one) tied to the session's."""

    cap: Decimal | None
    session: SessionSpend
    spent: Decimal = Decimal(0)  # what earlier phases of this operation already spent
    _account: _Account = field(init=False)

    def __post_init__(self) -> None:
        self._account = _Account("budget", self.cap, spent=self.spent)

    @property
    def spent_usd(self) -> Decimal:
        with self.session.lock:
            return self._account.spent

    @property
    def limited(self) -> bool:
        """Whether any cap (the operation's or the session's) applies."""
        return self.cap is not None or self.session.cap is not None

    def _accounts(self) -> list[_Account]:
        return [a for a in (self._account, self.session._account) if a.cap is not None]

    def reserve(
        self,
        fixed: Decimal,
        per_output_token: Decimal,
        want_tokens: int | None,
        min_tokens: int,
        describe: Callable[[str, Decimal, Decimal, Decimal, Decimal], str],
        cancelled: Callable[[], bool] = lambda: False,
        wait_seconds: float = WAIT_FOR_SETTLE_SECONDS,
    ) -> Reservation:
        """Reserve `fixed` + max_tokens x `per_output_token`; max_tokens is `want_tokens`
        or as many as fit, never fewer than `min_tokens`. Raises BudgetExceeded.

        When the call does not fit only because other calls are in flight, it waits (up to
        `wait_seconds`, or until `cancelled()`) for them to settle.
        """
        with self.session.lock:
            waited = 0.0
            while True:
                accounts = self._accounts()
                if not accounts:
                    return Reservation(Decimal(0), want_tokens)
                room = min(a.room() for a in accounts)  # type: ignore[type-var]
                tokens = self._tokens_that_fit(room, fixed, per_output_token, want_tokens)
                if tokens is not None and tokens >= min_tokens:
                    amount = fixed + tokens * per_output_token
                    for account in accounts:
                        account.reserved += amount
                    return Reservation(amount, tokens, accounts)
                in_flight = any(a.reserved > 0 for a in accounts)
                if not in_flight or waited >= wait_seconds or cancelled():
                    tightest = min(accounts, key=lambda a: a.room())  # type: ignore[arg-type,return-value]
                    need = fixed + min_tokens * per_output_token
                    raise BudgetExceeded(
                        describe(tightest.name, tightest.cap, tightest.spent, tightest.reserved, need)  # type: ignore[arg-type]
                    )
                self.session.lock.wait(0.25)
                waited += 0.25

    @staticmethod
    def _tokens_that_fit(
        room: Decimal, fixed: Decimal, per_output_token: Decimal, want: int | None
    ) -> int | None:
        if room < fixed:
            return None
        if per_output_token <= 0:
            return want
        fit = int((room - fixed) / per_output_token)
        return fit if want is None else min(want, fit)

    def settle(self, reservation: Reservation, charged: Decimal) -> None:
        """Replace the reservation by what the call is charged (its cost or upper bound)."""
        with self.session.lock:
            if reservation.settled:
                return
            reservation.settled = True
            for account in reservation.accounts:
                account.reserved -= reservation.amount
            # both always count what was spent, capped or not (a cap set later sees it)
            self._account.spent += charged
            self.session._account.spent += charged
            self.session.lock.notify_all()
