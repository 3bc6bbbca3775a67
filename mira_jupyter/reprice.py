"""Recompute logged costs with another price table, without touching the stored rows.

Each call is repriced from its raw provider usage object when one was stored (so DeepSeek's
hit/miss split and other details come back exactly), else from its token columns, at the
prices in force when it started. A cost the provider itself reported (OpenRouter
``usage.cost``) was what was charged, so it stays the truth under any table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core.events import Usage
from .core.money import stored_usd
from .store.db import Database
from .store.location import Location

if TYPE_CHECKING:
    import pandas as pd

REPRICE_GROUPINGS = ("model", "role", "day", "operation")

_CALLS = """
SELECT c.id, c.operation_id, c.role, c.provider, c.model, c.started_at,
       c.input_tokens, c.cached_input_tokens, c.output_tokens, c.reasoning_tokens,
       c.usage_source, c.output_tokens_upper, c.raw_usage_json::VARCHAR, c.provider_cost_usd,
       c.cost_total_usd, c.cost_upper_usd, coalesce(c.priced, true), c.price_version
FROM llm_calls c
WHERE c.finished_at IS NOT NULL AND (? IS NULL OR c.started_at >= ?)
ORDER BY c.started_at, c.id
"""


def _from_columns(counts: dict[str, Any], provider_cost: Any = None) -> Usage:
    source = counts.get("source")
    return Usage(
        input_tokens=counts.get("input_tokens") or 0,
        cached_input_tokens=counts.get("cached_input_tokens") or 0,
        output_tokens=counts.get("output_tokens") or 0,
        reasoning_tokens=counts.get("reasoning_tokens") or 0,
        source=source if source in ("reported", "estimated") else "estimated",
        provider_cost_usd=None if provider_cost is None else Decimal(str(provider_cost)),
    )


def _trusted(raw: Any, stored: Usage) -> Usage:
    """The usage `raw` reports, unless the call was counted otherwise when it was made.

    A report below what the client saw (zeros for a streamed answer) was replaced by what
    was seen, marked estimated: the stored counts are that reading, and are repriced (with
    the raw object, so the provider's figure is weighed as it was).
    """
    from .llm.usage import normalize_usage, seen_contradiction

    parsed = normalize_usage(raw) if isinstance(raw, dict) else None
    if parsed is None:
        return stored
    contradicted = stored.source == "estimated" and parsed.source == "reported"
    if contradicted and seen_contradiction(parsed, stored) is not None:
        return stored.model_copy(update={"raw": parsed.raw, "below_seen": True})
    return parsed


def _attempt_usage(stored: dict[str, Any]) -> Usage:
    """One attempt of a retried call: from its provider object, else its stored counts."""
    return _trusted(stored.get("raw"), _from_columns(stored, stored.get("provider_cost_usd")))


def _usage(row: tuple[Any, ...]) -> Usage:
    from .store.rows import ATTEMPTS_KEY

    raw_json, provider_cost = row[12], row[13]
    raw: Any = None
    if raw_json:
        try:
            raw = json.loads(raw_json)
        except ValueError:
            raw = None
    if isinstance(raw, dict) and isinstance(raw.get(ATTEMPTS_KEY), list):
        # a retried call: each attempt is repriced on its own, as it was priced
        parts = [_attempt_usage(a) for a in raw[ATTEMPTS_KEY] if isinstance(a, dict)]
        if parts:
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            return total.model_copy(
                update={"attempts": parts, "output_tokens_upper": row[11]}
            )
    columns = {
        "input_tokens": row[6],
        "cached_input_tokens": row[7],
        "output_tokens": row[8],
        "reasoning_tokens": row[9],
        "source": row[10],
    }
    usage = _trusted(raw, _from_columns(columns, provider_cost))
    return usage.model_copy(update={"output_tokens_upper": row[11]})


def _key(row: tuple[Any, ...], by: str) -> Any:
    if by == "model":
        return f"{row[3]}:{row[4]}"
    if by == "role":
        return row[2]
    if by == "day":
        started = row[5]
        return started.astimezone(UTC).date() if isinstance(started, datetime) else None
    return row[1]


def reprice(
    location: str | Path | Location | Database,
    prices_file: str | Path,
    by: str = "model",
    since: Any = None,
    *,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Old against new cost per `by` group, priced with the shipped table plus `prices_file`.

    Columns: the key, calls, cost_old_usd, cost_new_usd, delta_usd (new - old),
    unpriced_old, unpriced_new. ``df.attrs`` has the exact totals and both price versions.
    The log is opened read-only: no stored row changes.
    """
    import pandas as pd

    from .llm.pricing import cost_of, load_prices
    from .store.analytics import parse_since

    if by not in REPRICE_GROUPINGS:
        raise ValueError(f"--reprice groups by one of {', '.join(REPRICE_GROUPINGS)}, not {by!r}")
    table = load_prices(prices_file)
    bound = parse_since(since)
    database = location if isinstance(location, Database) else Database(location)
    with database.connect(read_only=True, timeout=timeout) as con:
        rows = con.execute(_CALLS, [bound, bound]).fetchall()
    groups: dict[Any, dict[str, Any]] = {}
    old_versions: set[str] = set()
    for row in rows:
        usage = _usage(row)
        new = cost_of(usage, f"{row[3]}:{row[4]}", prices=table, at=row[5])
        group = groups.setdefault(
            _key(row, by),
            {"calls": 0, "old": Decimal(0), "new": Decimal(0), "unpriced_old": 0, "unpriced_new": 0},
        )
        group["calls"] += 1
        if row[16] and row[14] is not None:
            group["old"] += Decimal(row[14])
        else:
            group["unpriced_old"] += 1
        if new.priced:
            # at the log's precision, as the old cost was stored: the same table gives delta 0
            group["new"] += stored_usd(new.total_usd)
        else:
            group["unpriced_new"] += 1
        if row[17]:
            old_versions.add(row[17])
    key_name = {"model": "model", "role": "role", "day": "day", "operation": "operation_id"}[by]
    records = [
        {
            key_name: key,
            "calls": g["calls"],
            "cost_old_usd": float(g["old"]),
            "cost_new_usd": float(g["new"]),
            "delta_usd": float(g["new"] - g["old"]),
            "unpriced_old": g["unpriced_old"],
            "unpriced_new": g["unpriced_new"],
        }
        for key, g in groups.items()
    ]
    df = pd.DataFrame(
        records,
        columns=[key_name, "calls", "cost_old_usd", "cost_new_usd", "delta_usd", "unpriced_old", "unpriced_new"],
    )
    if len(df):
        df = df.sort_values("cost_new_usd", ascending=False, kind="stable").reset_index(drop=True)
    old_total = sum((g["old"] for g in groups.values()), Decimal(0))
    new_total = sum((g["new"] for g in groups.values()), Decimal(0))
    df.attrs["totals"] = {"cost_old_usd": old_total, "cost_new_usd": new_total, "delta_usd": new_total - old_total}
    df.attrs["price_version_new"] = table.version
    df.attrs["price_versions_old"] = sorted(old_versions)
    df.attrs["by"] = by
    return df
