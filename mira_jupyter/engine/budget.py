"""Budgets as reservations: a call reserves its worst case before it is sent, then settles.

Every call reserves ``input estimate + max_tokens sent`` at the model's prices against its
operation's budget and the session's budget, atomically (one lock for both), and settles
to what it really cost when it ends (or to its upper bound when the cost is unknown). A
reservation that does not fit is not sent. So operations running at the same time in one
kernel can never together spend more than the session budget, and one operation never
more than its own: whatever is in flight is already counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, TypeVar

from ..core.cancel import OperationCancelled
from ..core.errors import OperationEnding

# A prompt is always reserved at this multiple of our own tokenizer's count or at the
# prompt's UTF-8 byte count, whichever is larger (a byte-level tokenizer never makes more
# tokens than bytes), or at the largest reported/estimated ratio seen for the model in this
# session plus 2% if a provider ever counted more than that. What a first reply taught is
# never trusted to stay true: the byte bound holds for any later reply as well.
#
# Calls of a model go one at a time (the others wait for the reply in flight) until it has
# replied once in this session, and for the rest of the session once its terms are not a
# true bound: its provider states its own cost (OpenRouter usage.cost, which may change
# from one call to the next), or one of its calls was billed more than its reservation.
# So at most one call per model can be billed more than was reserved for it, and the
# operation it belongs to stops after it.
DEFAULT_INPUT_MARGIN = 1.35
# How long a call waits for other calls' reservations to settle before giving up. A call
# that would fit once the in-flight calls are settled waits instead of failing at once.
WAIT_FOR_SETTLE_SECONDS = 120.0
# How long a call waits for the model's call in flight when its calls go one at a time. A
# reasoning call may stream for many minutes, so this is long; it only bounds a call that
# never settles (which every exit of CallRunner.call prevents) so a kernel never hangs.
WAIT_FOR_TURN_SECONDS = 1800.0


log = logging.getLogger(__name__)
T = TypeVar("T")


class BudgetExceeded(OperationEnding):
    """The next call could overspend the budget; the operation stops cleanly."""


class TeamAccount(Protocol):
    """A cap shared with other kernels (the team budget, kept in the shared log)."""

    name: str
    cap: Decimal

    def used(self) -> Decimal:
        """What every kernel has spent or holds in flight in the period."""

    def reserve(self, amount: Decimal, call_id: str | None = None) -> tuple[str | None, Decimal]:
        """Atomically reserve `amount` for `call_id` if it fits: (ticket or None, used)."""

    def extend(self, ticket: str, amount: Decimal) -> bool:
        """Reserve `amount` more on `ticket` if it fits."""

    def settle(self, ticket: str, charged: Decimal, call_id: str | None) -> None:
        """Replace the ticket's reservation by what the call was charged."""


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
        self._cost_ratios: dict[str, Decimal] = {}  # provider-reported cost / table cost
        self._known: set[str] = set()  # models a reply has come back from (learned or not)
        self._probing: set[str] = set()  # models with a call in flight that others wait for
        self._one_at_a_time: set[str] = set()  # models whose reservations are not a true bound
        # the team budget over every kernel of the shared log (None: no team cap)
        self.team: TeamAccount | None = None
        # counts this kernel's team settlements done: a call waiting for room reads the
        # shared log again only when one has changed it (each read is a catalog round trip)
        self.team_settled = 0

    def learned(self, model_id: str) -> bool:
        """Whether a reply of `model_id` has told us how its provider counts prompts."""
        with self.lock:
            return model_id in self._known

    def one_at_a_time(self, model_id: str) -> bool:
        """Whether `model_id`'s calls wait for each other (see DEFAULT_INPUT_MARGIN)."""
        with self.lock:
            return model_id not in self._known or model_id in self._one_at_a_time

    def distrust(self, model_id: str) -> None:
        """`model_id` was billed beyond what was reserved: its calls go one at a time."""
        with self.lock:
            self._one_at_a_time.add(model_id)

    def input_margin(self, model_id: str) -> float | None:
        """Multiple of our token count to reserve for `model_id`'s prompt; None until a
        reply has reported a count (then the first-call bound applies)."""
        with self.lock:
            seen = self._input_ratios.get(model_id)
        return None if seen is None else max(1.0, seen * 1.02)

    def observe_input(self, model_id: str, reported: int, estimated: int) -> None:
        """Learn how `model_id`'s provider counts prompts compared with our tokenizer."""
        if estimated <= 0:
            return
        with self.lock:
            ratio = reported / estimated
            self._input_ratios[model_id] = max(ratio, self._input_ratios.get(model_id, 0.0))
            self._known.add(model_id)

    def observe_cost(self, model_id: str, reported: Decimal, table: Decimal) -> None:
        """Learn how much more than the table a provider charges (OpenRouter usage.cost)."""
        if table <= 0:
            return
        with self.lock:
            ratio = reported / table
            self._cost_ratios[model_id] = max(ratio, self._cost_ratios.get(model_id, Decimal(0)))
            # the next call's price may differ again: no reservation bounds it for sure
            self._one_at_a_time.add(model_id)

    def cost_margin(self, model_id: str) -> Decimal:
        """Multiple of the table price to reserve for `model_id` (1 unless its provider
        reported charging more), plus 2% once learned."""
        with self.lock:
            seen = self._cost_ratios.get(model_id)
        return Decimal(1) if seen is None else max(Decimal(1), seen * Decimal("1.02"))

    def observe_reply(self, model_id: str) -> None:
        """A reply came back without a usable count: stop holding other calls for it.

        Its prompts stay reserved at the conservative first-call bound.
        """
        with self.lock:
            self._known.add(model_id)

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
    probe: str | None = None  # the model whose first call this is (others wait for it)
    team_ticket: str | None = None  # its reservation in the team budget, if one applies
    call_id: str | None = None  # the call it pays for (the team ledger links the two)


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
        """Whether any cap (the operation's, the session's or the team's) applies."""
        return self.cap is not None or self.session.cap is not None or self.session.team is not None

    def _accounts(self) -> list[_Account]:
        return [a for a in (self._account, self.session._account) if a.cap is not None]

    def overspent(self) -> tuple[str, Decimal, Decimal] | None:
        """(name, cap, spent) of a cap that settled calls have pushed past, or None.

        A reservation bounds what the client can foresee; a provider's own figure
        (OpenRouter ``usage.cost``) or a prompt counted far above our estimate can still
        exceed it. Spending exactly the cap is within it.
        """
        with self.session.lock:
            for account in self._accounts():
                if account.spent > account.cap:  # type: ignore[operator]
                    return account.name, account.cap, account.spent  # type: ignore[return-value]
        return None

    def reserve(
        self,
        fixed: Decimal,
        per_output_token: Decimal,
        want_tokens: int | None,
        min_tokens: int,
        describe: Callable[[str, Decimal, Decimal, Decimal, Decimal], str],
        cancelled: Callable[[], bool] = lambda: False,
        wait_seconds: float = WAIT_FOR_SETTLE_SECONDS,
        model_id: str | None = None,
        turn_seconds: float = WAIT_FOR_TURN_SECONDS,
        terms_once_learned: Callable[[], tuple[Decimal, Decimal]] | None = None,
        call_id: str | None = None,
    ) -> Reservation:
        """Reserve `fixed` + max_tokens x `per_output_token`; max_tokens is `want_tokens`
        or as many as fit, never fewer than `min_tokens`. Raises BudgetExceeded.

        When the call does not fit only because other calls are in flight, it waits (up to
        `wait_seconds`, or until `cancelled()`) for them to settle. While `model_id` has
        not replied yet in this session, its calls go one at a time (the others wait for
        the call in flight, up to `turn_seconds` or until `cancelled()`); once it has, `fixed` and
        `per_output_token` are `terms_once_learned()`; a team reservation names `call_id`.
        """
        with self.session.lock:
            waited = turn_waited = 0.0
            team_races = 0
            # what the shared log says the team used: read once per reservation, and again
            # only after this kernel settled a team call or another kernel took the room
            team_used: Decimal | None = None
            team_seen = self.session.team_settled
            while True:
                accounts = self._accounts()
                team = self.session.team
                if not accounts and team is None:
                    return Reservation(Decimal(0), want_tokens)
                probe = None
                if model_id is not None and self.session.one_at_a_time(model_id):
                    if model_id in self.session._probing:
                        if cancelled():
                            raise OperationCancelled("cancelled by user")
                        if turn_waited >= turn_seconds:
                            # never wait without end for a call that may never settle
                            raise BudgetExceeded(
                                f"waited {turn_seconds:g} s for another {model_id} call in flight "
                                "to settle (its calls go one at a time under a budget); try again"
                            )
                        self.session.lock.wait(0.25)
                        turn_waited += 0.25
                        continue
                    probe = model_id
                if (
                    model_id is not None
                    and self.session.learned(model_id)
                    and terms_once_learned is not None
                ):
                    fixed, per_output_token = terms_once_learned()
                team_account = None
                if team is not None:
                    if team_used is None or team_seen != self.session.team_settled:
                        team_seen = self.session.team_settled
                        team_used = _team_used(team)
                    team_account = _Account(team.name, team.cap, spent=team_used)
                    accounts = [*accounts, team_account]
                room = min(a.room() for a in accounts)  # type: ignore[type-var]
                tokens = self._tokens_that_fit(room, fixed, per_output_token, want_tokens)
                if tokens is not None and tokens >= min_tokens:
                    amount = fixed + tokens * per_output_token
                    ticket = None
                    if team is not None and team_account is not None:
                        ticket, seen = _team_reserve(team, amount, call_id)
                        if ticket is None and team_races < 5:
                            team_races += 1  # another kernel took the room: look again
                            team_used = seen  # at what the ledger saw as it refused
                            continue
                        if ticket is None:
                            raise BudgetExceeded(describe(team.name, team.cap, seen, Decimal(0), amount))
                        accounts = [a for a in accounts if a is not team_account]
                    for account in accounts:
                        account.reserved += amount
                    if probe is not None:
                        self.session._probing.add(probe)
                    return Reservation(amount, tokens, accounts, probe=probe, team_ticket=ticket, call_id=call_id)
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

    def extend(self, reservation: Reservation, amount: Decimal, describe: Callable[[str, Decimal, Decimal, Decimal, Decimal], str]) -> None:
        """Reserve `amount` more for the same call (a retry resends a billed request), or
        raise BudgetExceeded: each attempt that reaches the model may cost its own worst case."""
        with self.session.lock:
            team = self.session.team
            if reservation.team_ticket is not None and team is not None and not reservation.settled:
                if not _team_extend(team, reservation.team_ticket, amount):
                    raise BudgetExceeded(describe(team.name, team.cap, team.used(), Decimal(0), amount))
                if not reservation.accounts:
                    reservation.amount += amount
                    return
            if not reservation.accounts or reservation.settled:
                return
            room = min(a.room() for a in reservation.accounts)  # type: ignore[type-var]
            if room < amount:
                tightest = min(reservation.accounts, key=lambda a: a.room())  # type: ignore[arg-type,return-value]
                raise BudgetExceeded(
                    describe(tightest.name, tightest.cap, tightest.spent, tightest.reserved, amount)  # type: ignore[arg-type]
                )
            for account in reservation.accounts:
                account.reserved += amount
            reservation.amount += amount

    def settle(self, reservation: Reservation, charged: Decimal) -> None:
        """Replace the reservation by what the call is charged (its cost or upper bound)."""
        with self.session.lock:
            if reservation.settled:
                return
            reservation.settled = True
            if reservation.probe is not None:
                self.session._probing.discard(reservation.probe)
            for account in reservation.accounts:
                account.reserved -= reservation.amount
            if not Decimal(charged).is_finite():
                # a bug upstream, never a price: the call keeps what was reserved for it
                charged = reservation.amount
            # both always count what was spent, capped or not (a cap set later sees it)
            self._account.spent += charged
            self.session._account.spent += charged
            self.session.lock.notify_all()
        team = self.session.team
        if reservation.team_ticket is not None and team is not None:
            try:  # a ledger that cannot write it now keeps it and writes it later
                team.settle(reservation.team_ticket, charged, reservation.call_id)
            except Exception as exc:  # it keeps counting its worst case: safe
                log.warning("could not settle a team budget reservation: %s", exc)
            with self.session.lock:
                self.session.team_settled += 1
                self.session.lock.notify_all()


def _team(team: TeamAccount, ask: Callable[[], T]) -> T:
    """`ask()` of the team ledger; one that cannot be checked stops the call (fail closed)."""
    try:
        return ask()
    except Exception as exc:
        raise BudgetExceeded(f"{team.name} cannot be checked, so nothing is sent: {exc}") from None


def _team_used(team: TeamAccount) -> Decimal:
    return _team(team, team.used)


def _team_reserve(team: TeamAccount, amount: Decimal, call_id: str | None) -> tuple[str | None, Decimal]:
    return _team(team, lambda: team.reserve(amount, call_id))


def _team_extend(team: TeamAccount, ticket: str, amount: Decimal) -> bool:
    return _team(team, lambda: team.extend(ticket, amount))
