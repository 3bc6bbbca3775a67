"""The team budget: one cap over every kernel writing the shared log, with reservations.

``Mira.team_budget_usd`` with ``Mira.team_budget_period`` (``day`` or ``month``, UTC) is
checked before each model call by the same rule as a kernel's own budget (see
:mod:`mira_jupyter.engine.budget`): the call's worst case is reserved first, and the call is
not sent if it does not fit; when it ends the reservation is settled to what it cost.

The team's spend in the period is what the shared log holds: the cost of every call in
``llm_calls`` (its upper bound where one is known), plus every reservation in
``team_reservations`` (its charge once settled, its worst case while in flight), a call that
is in both counted once. A reservation of a kernel that died in flight is never settled and
keeps counting its worst case: that may refuse a call too many, never allow one too many.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from ..core.money import TEAM_BUDGET_PERIODS, stored_usd
from .db import Database, DatabaseLocked
from .faults import retry
from .session import SessionInfo

Period = Literal["day", "month"]
PERIODS: tuple[str, ...] = TEAM_BUDGET_PERIODS

_USED = """
SELECT
  (SELECT coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0) FROM llm_calls c
    WHERE c.started_at >= $since
      AND NOT EXISTS (SELECT 1 FROM team_reservations r WHERE r.call_id = c.id))
  + (SELECT coalesce(sum(coalesce(charged, amount)), 0) FROM team_reservations
      WHERE created_at >= $since)
"""


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

    def _retrying(self, work):  # type: ignore[no-untyped-def]
        """Run `work(con)` in a transaction, again after a commit conflict (with jitter)."""
        deadline = time.monotonic() + self.timeout

        def once():  # type: ignore[no-untyped-def]
            with self.db.transaction(timeout=max(0.1, deadline - time.monotonic())) as con:
                return work(con)

        # a lake's commit conflict, or the file held meanwhile
        return retry(once, lambda exc, _attempt: isinstance(exc, DatabaseLocked), first=0.02, deadline=deadline)

    def used(self) -> Decimal:
        """What the whole team has spent or holds in flight this period."""
        since = period_start(self.period)
        with self.db.connect(read_only=True, timeout=self.timeout) as con:
            return Decimal(str(con.execute(_USED, {"since": since}).fetchone()[0]))

    def reserve(self, amount: Decimal) -> tuple[str | None, Decimal]:
        """Reserve `amount` if it fits under the cap: (reservation id or None, team used)."""
        since = period_start(self.period)

        def work(con):  # type: ignore[no-untyped-def]
            # every reservation updates this one row first, so two never commit side by side
            con.execute("UPDATE team_budget_lock SET version = version + 1")
            used = Decimal(str(con.execute(_USED, {"since": since}).fetchone()[0]))
            if used + amount > self.cap:
                return None, used
            ticket = uuid.uuid4().hex
            con.execute(
                "INSERT INTO team_reservations (id, session_id, user_name, host, amount, created_at) "
                "VALUES (?, ?, ?, ?, ?::DECIMAL(18, 9), ?)",
                [ticket, self.session.id, self.session.user, self.session.host or self.session.hostname,
                 str(stored_usd(amount)), datetime.now(UTC)],
            )  # fmt: skip
            return ticket, used

        return self._retrying(work)

    def extend(self, ticket: str, amount: Decimal) -> bool:
        """Reserve `amount` more on `ticket` (a retry's own worst case) if it fits."""
        since = period_start(self.period)

        def work(con):  # type: ignore[no-untyped-def]
            con.execute("UPDATE team_budget_lock SET version = version + 1")
            used = Decimal(str(con.execute(_USED, {"since": since}).fetchone()[0]))
            if used + amount > self.cap:
                return False
            con.execute(
                "UPDATE team_reservations SET amount = amount + ?::DECIMAL(18, 9) WHERE id = ?",
                [str(stored_usd(amount)), ticket],
            )
            return True

        return self._retrying(work)

    def settle(self, ticket: str, charged: Decimal, call_id: str | None) -> None:
        """Replace `ticket`'s worst case by what the call was charged."""

        def work(con):  # type: ignore[no-untyped-def]
            con.execute(
                "UPDATE team_reservations SET charged = ?::DECIMAL(18, 9), call_id = ?, "
                "settled_at = ? WHERE id = ?",
                [str(stored_usd(charged)), call_id, datetime.now(UTC), ticket],
            )

        self._retrying(work)
