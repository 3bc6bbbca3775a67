"""The team budget: one cap over every kernel writing the shared log, with reservations.

``Mira.team_budget_usd`` with ``Mira.team_budget_period`` (``day`` or ``month``, UTC) is
checked before each model call by the same rule as a kernel's own budget (see
:mod:`mira_jupyter.engine.budget`): the call's worst case is reserved first, and the call is
not sent if it does not fit; when it ends the reservation is settled to what it cost.

The team's spend in the period is what the shared log holds, each call counted once: the
cost of every call in ``llm_calls`` (its upper bound where one is known), plus every
reservation in ``team_reservations`` whose call has no cost in the log yet (its charge once
settled, its worst case while in flight). A reservation names its call from the moment it
is taken, so a call whose settlement was never written (the catalog away at settle time, the
kernel killed mid-call) counts its logged cost once the journal brings the call in, never
that cost plus the stale reservation.

A settlement that cannot be written is kept and written with this kernel's next reservation
(in the same transaction) or when the session closes. An unsettled reservation with no
logged call expires once its session has ended (the log says so: a clean close, or a dead
kernel's journal replayed) or after ``EXPIRES_AFTER``; until then it counts its worst case,
which may refuse a call too many, never allow one too many.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from ..core.money import TEAM_BUDGET_PERIODS, stored_usd
from .db import Database, DatabaseLocked
from .deadline import Stuck, within
from .faults import retry
from .session import SessionInfo

Period = Literal["day", "month"]
PERIODS: tuple[str, ...] = TEAM_BUDGET_PERIODS

# An unsettled reservation whose call never reached the log stops counting after this long
# (a kernel killed on a machine nobody restarts; a call that long is still counted by its
# own row once that is written)
EXPIRES_AFTER = timedelta(hours=6)

_USED = """
SELECT
  (SELECT coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0) FROM llm_calls
    WHERE started_at >= $since)
  + (SELECT coalesce(sum(coalesce(r.charged, r.amount)), 0) FROM team_reservations r
      WHERE r.created_at >= $since
        AND NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.id = r.call_id
                          AND coalesce(c.cost_upper_usd, c.cost_total_usd) IS NOT NULL)
        AND (r.charged IS NOT NULL OR (r.created_at >= $expired AND NOT EXISTS (
              SELECT 1 FROM sessions s WHERE s.id = r.session_id AND s.ended_at IS NOT NULL))))
"""

# how much longer than its own lock/commit timeout a ledger request may take before the
# call is refused: a catalog that accepts connections but never answers would hang it for good
DEADLINE_GRACE_SECONDS = 5.0

log = logging.getLogger(__name__)


def period_start(period: Period, now: datetime | None = None) -> datetime:
    """The start (UTC) of the budget period that `now` is in."""
    now = now or datetime.now(UTC)
    if period == "day":
        return datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period == "month":
        return datetime(now.year, now.month, 1, tzinfo=UTC)
    raise ValueError(f"team budget period must be one of {', '.join(PERIODS)}, not {period!r}")


class TeamLedger:
    """Reservations against the team cap in the shared log (``engine.budget.TeamAccount``)."""

    name = "team budget"

    def __init__(
        self,
        location: str,
        cap: Decimal,
        period: Period,
        session: SessionInfo,
        *,
        timeout: float = 30.0,
    ) -> None:
        period_start(period)  # validates
        self.db = Database(location)
        self.cap = Decimal(cap)
        self.period = period
        self.session = session
        self.timeout = timeout
        # settlements the log could not take yet: (ticket, charged, call_id), oldest first
        self._unsettled: list[tuple[str, Decimal, str | None]] = []
        self._unsettled_lock = threading.Lock()
        self._stuck = Stuck()

    def _within(self, work, late=None, timeout: float | None = None):  # type: ignore[no-untyped-def]
        """`work()`, or a one-line StoreUnavailable once the log has not answered in time."""
        seconds = (self.timeout if timeout is None else timeout) + DEADLINE_GRACE_SECONDS
        return within(seconds, work, self.name, self._stuck, late)

    def _bounds(self) -> dict[str, datetime]:
        since = period_start(self.period)
        return {"since": since, "expired": datetime.now(UTC) - EXPIRES_AFTER}

    @property
    def unsettled(self) -> int:
        """How many settlements wait to be written (the log was unreachable)."""
        with self._unsettled_lock:
            return len(self._unsettled)

    def _write_unsettled(self, con) -> list[tuple[str, Decimal, str | None]]:  # type: ignore[no-untyped-def]
        """Write the waiting settlements in `con`'s transaction; return those written."""
        with self._unsettled_lock:
            waiting = list(self._unsettled)
        for ticket, charged, call_id in waiting:
            _write_settlement(con, ticket, charged, call_id)
        return waiting

    def _written(self, done: list[tuple[str, Decimal, str | None]]) -> None:
        with self._unsettled_lock:
            self._unsettled = [s for s in self._unsettled if s not in done]

    def _retrying(self, work, timeout: float | None = None):  # type: ignore[no-untyped-def]
        """Run `work(con)` in a transaction, again after a commit conflict (with jitter)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)

        def once():  # type: ignore[no-untyped-def]
            with self.db.transaction(timeout=max(0.1, deadline - time.monotonic())) as con:
                return work(con)

        # a lake's commit conflict, or the file held meanwhile
        return retry(once, lambda exc, _attempt: isinstance(exc, DatabaseLocked), first=0.02, deadline=deadline)

    def used(self) -> Decimal:
        """What the whole team has spent or holds in flight this period."""
        if self.unsettled:
            self.flush_settlements()

        def read() -> Decimal:
            with self.db.connect(read_only=True, timeout=self.timeout) as con:
                return Decimal(str(con.execute(_USED, self._bounds()).fetchone()[0]))

        return self._within(read)

    def reserve(self, amount: Decimal, call_id: str | None = None) -> tuple[str | None, Decimal]:
        """Reserve `amount` for `call_id` if it fits under the cap: (reservation id or None,
        team used). Settlements still waiting are written in the same transaction."""
        bounds = self._bounds()

        def work(con):  # type: ignore[no-untyped-def]
            # every reservation updates this one row first, so two never commit side by side
            con.execute("UPDATE team_budget_lock SET version = version + 1")
            written = self._write_unsettled(con)
            used = Decimal(str(con.execute(_USED, bounds).fetchone()[0]))
            if used + amount > self.cap:
                return None, used, written
            ticket = uuid.uuid4().hex
            con.execute(
                "INSERT INTO team_reservations (id, session_id, user_name, host, amount, call_id, "
                "created_at) VALUES (?, ?, ?, ?, ?::DECIMAL(18, 9), ?, ?)",
                [ticket, self.session.id, self.session.user, self.session.host or self.session.hostname,
                 str(stored_usd(amount)), call_id, datetime.now(UTC)],
            )  # fmt: skip
            return ticket, used, written

        def attempt() -> tuple[str | None, Decimal]:
            ticket, used, written = self._retrying(work)
            self._written(written)
            return ticket, used

        def release(late: tuple[str | None, Decimal]) -> None:  # taken after the call gave up
            if late[0] is not None:
                self.settle(late[0], Decimal(0), call_id)

        return self._within(attempt, release)

    def extend(self, ticket: str, amount: Decimal) -> bool:
        """Reserve `amount` more on `ticket` (a retry's own worst case) if it fits."""
        bounds = self._bounds()

        def work(con):  # type: ignore[no-untyped-def]
            con.execute("UPDATE team_budget_lock SET version = version + 1")
            used = Decimal(str(con.execute(_USED, bounds).fetchone()[0]))
            if used + amount > self.cap:
                return False
            con.execute(
                "UPDATE team_reservations SET amount = amount + ?::DECIMAL(18, 9) WHERE id = ?",
                [str(stored_usd(amount)), ticket],
            )
            return True

        return self._within(lambda: self._retrying(work))

    def settle(self, ticket: str, charged: Decimal, call_id: str | None) -> None:
        """Replace `ticket`'s worst case by what the call was charged; when the log cannot
        take it now, keep it for the next reservation or the close (never lost, never raised)."""
        with self._unsettled_lock:
            self._unsettled.append((ticket, Decimal(charged), call_id))
        try:
            self.flush_settlements()
        except Exception as exc:  # the reservation keeps its worst case meanwhile: safe
            log.warning("a team budget settlement waits to be written: %s", exc)

    def flush_settlements(self, timeout: float | None = None) -> bool:
        """Write the settlements still waiting; True when none is left. Raises a store fault."""
        if not self.unsettled:
            return True
        done = self._within(lambda: self._retrying(self._write_unsettled, timeout), timeout=timeout)
        self._written(done)
        return not self.unsettled

    def close(self, timeout: float = 10.0) -> bool:
        """Write the settlements still waiting (within `timeout`); False if some could not be."""
        try:
            return self.flush_settlements(timeout)
        except Exception as exc:
            log.warning("%d team budget settlements could not be written: %s", self.unsettled, exc)
            return False


def _write_settlement(con, ticket: str, charged: Decimal, call_id: str | None) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "UPDATE team_reservations SET charged = ?::DECIMAL(18, 9), call_id = coalesce(?, call_id), "
        "settled_at = ? WHERE id = ?",
        [str(stored_usd(charged)), call_id, datetime.now(UTC), ticket],
    )
