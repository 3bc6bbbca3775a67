"""What this kernel (process) has already spent, from the log: the session budget's scope.

`Mira.budget_usd` caps one kernel. Loading the extension again in the same kernel
(``%reload_ext``) makes a new `Session`, whose budget must start from what the kernel's
earlier sessions spent, not from zero. The log knows: each ``sessions`` row names its host
and pid, and a row of this process started after `PROCESS_STARTED_AT`.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from .session import PROCESS_STARTED_AT, this_host

log = logging.getLogger(__name__)

# what each call charged a budget: its upper bound when only a lower bound is known
_SPENT = """
SELECT coalesce(sum(coalesce(c.cost_upper_usd, c.cost_total_usd)), 0)::VARCHAR
FROM llm_calls c
JOIN operations o ON o.id = c.operation_id
JOIN sessions s ON s.id = o.session_id
WHERE s.hostname = ? AND s.pid = ? AND s.started_at >= ? AND s.id <> ?
"""


def kernel_spent_usd(location: str | Path | Any, session_id: str, *, timeout: float = 3.0) -> Decimal:
    """What this process's sessions other than `session_id` spent, by the log (0 when the
    log does not exist yet or cannot be read)."""
    from .db import Database
    from .location import Location

    place = Location.parse(location) if not isinstance(location, Database) else location.location
    if place.kind == "file" and (place.path is None or not place.path.is_file()):
        return Decimal(0)  # no log yet: nothing was spent, and nothing is created here
    try:
        database = location if isinstance(location, Database) else Database(place, timeout=timeout)
        with database.connect(read_only=True, timeout=timeout) as con:
            row = con.execute(_SPENT, [this_host(), os.getpid(), PROCESS_STARTED_AT, session_id]).fetchone()
    except Exception as exc:  # a held or broken log must not stop the first cell
        log.warning("the earlier spending of this kernel could not be read from the log: %s", exc)
        return Decimal(0)
    return Decimal(row[0]) if row and row[0] is not None else Decimal(0)
