"""Dollar cost of a model call from its usage and a shipped, versioned price table.

The table uses LiteLLM's field names (``input_cost_per_token``,
``cache_read_input_token_cost``, ``output_cost_per_token``) so an entry can be pasted from
there; every shipped entry also names its ``source``. Prices are parsed as `Decimal`
straight from the JSON text, so costs are exact.

Prices have effective periods: an entry's ``history`` lists earlier prices with their
``from``/``until`` instants (UTC), optionally with an ``off_peak`` daily window, and a call
is priced by the period containing its start time. Dated snapshots (``gpt-4o-2024-05-13``)
are entries of their own: a date suffix is never stripped to find a price, because a
snapshot can cost something else than the current alias.

A user file (``MIRA_PRICES_FILE``, ``Mira.prices_file`` or an explicit path) is merged over
the shipped table; ``price_version`` is the shipped version plus the user file's version and
the first 12 hex digits of its SHA-256, so two different files never share a version.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.events import Cost, Usage
from ._names import model_name_candidates

PRICES_ENV = "MIRA_PRICES_FILE"
PRICE_HELP = "price it with a JSON file named by MIRA_PRICES_FILE or %config Mira.prices_file"

_lock = threading.Lock()
_cache: dict[tuple[str | None, float | None, int | None], PriceTable] = {}
_META_KEYS = ("version", "source", "fetched", "sample_spec", "comment")
# $10,000 per million tokens, 16x the dearest model priced anywhere (o1-pro output, $600/M);
# a higher rate is a typo, and costs priced with it would not fit the log's DECIMAL columns
MAX_RATE_PER_TOKEN = Decimal("0.01")


@dataclass(frozen=True)
class ModelPrice:
    """Per-token prices of one model, in USD."""

    input: Decimal
    cached_input: Decimal
    output: Decimal
    reasoning: Decimal | None = None  # only when a model bills reasoning differently

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> ModelPrice:
        """Build from a LiteLLM-style entry; a missing cache rate means no cache discount."""
        try:
            input_rate = _rate(entry["input_cost_per_token"])
            output_rate = _rate(entry["output_cost_per_token"])
        except KeyError as exc:
            raise ValueError(f"price entry lacks {exc.args[0]!r}") from None
        cached = entry.get("cache_read_input_token_cost")
        reasoning = entry.get("output_cost_per_reasoning_token")
        return cls(
            input=input_rate,
            cached_input=input_rate if cached is None else _rate(cached),
            output=output_rate,
            reasoning=None if reasoning is None else _rate(reasoning),
        )


def _rate(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"a price must be a number, got {value!r}")
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"a price must be a number, got {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"a price must be a finite non-negative number, got {value!r}")
    if rate > MAX_RATE_PER_TOKEN:
        # the usual slip: a per-million price typed into a per-token field
        raise ValueError(
            f"a price of ${value} per token cannot be right: these fields are USD per token "
            "($1.25 per million tokens is 1.25e-06)"
        )
    return rate


def _instant(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an ISO date-time such as 2025-09-05T16:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clock(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"off_peak time {value!r} must look like 16:30") from None


def _in_window(at: datetime, start: time, end: time) -> bool:
    now = at.astimezone(UTC).time()
    return start <= now < end if start <= end else now >= start or now < end


def _price_at(entry: dict[str, Any], at: datetime | None) -> ModelPrice:
    """The price of `entry` in force at `at` (None: now, i.e. the entry's current price)."""
    chosen = entry
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # a naive instant is UTC, as a price file's are
    if at is not None:
        for period in entry.get("history") or ():
            start = _instant(period.get("from"), "history 'from'")
            end = _instant(period.get("until"), "history 'until'")
            if (start is None or start <= at) and (end is None or at < end):
                chosen = period
                break
    off_peak = chosen.get("off_peak")
    if (
        at is not None
        and isinstance(off_peak, dict)
        and _in_window(at, _clock(off_peak.get("start_utc")), _clock(off_peak.get("end_utc")))
    ):
        return ModelPrice.from_entry(off_peak)
    return ModelPrice.from_entry(chosen)


def _validate_off_peak(holder: dict[str, Any], where: str) -> None:
    """An ``off_peak`` window is billed like any price: it is checked like one."""
    off_peak = holder.get("off_peak")
    if off_peak is None:
        return
    if not isinstance(off_peak, dict):
        raise ValueError(f"{where}'off_peak' must be an object with start_utc, end_utc and prices")
    try:
        ModelPrice.from_entry(off_peak)
        _clock(off_peak.get("start_utc"))
        _clock(off_peak.get("end_utc"))
    except ValueError as exc:
        raise ValueError(f"{where}'off_peak': {exc}") from None


def _validate(entry: dict[str, Any]) -> None:
    ModelPrice.from_entry(entry)
    _validate_off_peak(entry, "")
    history = entry.get("history") or []
    if not isinstance(history, list):
        raise ValueError("'history' must be a list of periods")
    spans: list[tuple[datetime | None, datetime]] = []
    for period in history:
        if not isinstance(period, dict):
            raise ValueError("each 'history' period must be an object")
        ModelPrice.from_entry(period)
        start = _instant(period.get("from"), "history 'from'")
        end = _instant(period.get("until"), "history 'until'")
        if end is None:
            raise ValueError("each 'history' period needs an 'until' instant")
        if start is not None and start >= end:
            raise ValueError(f"history period from {start} is not before until {end}")
        _validate_off_peak(period, "history period ")
        spans.append((start, end))
    _refuse_overlaps(spans)


def _refuse_overlaps(spans: list[tuple[datetime | None, datetime]]) -> None:
    """Two periods covering one instant would price a call by whichever is listed first."""
    earliest = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(spans, key=lambda span: span[0] or earliest)
    for (start, end), (later_start, later_end) in zip(ordered, ordered[1:], strict=False):
        if (later_start or earliest) < end:
            raise ValueError(
                f"history periods overlap: {_span(start, end)} and {_span(later_start, later_end)}"
                " (each instant must have one price)"
            )


def _span(start: datetime | None, end: datetime) -> str:
    return f"{'the beginning' if start is None else start.isoformat()} until {end.isoformat()}"


@dataclass(frozen=True)
class PriceTable:
    """The merged price table and the version string recorded with each cost."""

    version: str
    source: str
    fetched: str
    models: dict[str, dict[str, Any]]

    def entry(self, model_id: str) -> dict[str, Any] | None:
        """The table entry for `model_id` (``provider:model``, then the bare name), or None."""
        for name in model_name_candidates(model_id, undated=False):
            found = self.models.get(name)
            if found is not None:
                return found
        return None

    def lookup(self, model_id: str, at: datetime | None = None) -> ModelPrice | None:
        """Price of `model_id` at instant `at` (default: the current price), or None."""
        entry = self.entry(model_id)
        return None if entry is None else _price_at(entry, at)

    def is_priced(self, model_id: str) -> bool:
        """Whether the table knows `model_id`."""
        return self.entry(model_id) is not None


def _read_json(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"price file not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"price file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise ValueError(f"price file {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"price file {path} is not valid JSON: {exc}") from None
    except RecursionError:
        # json.loads recurses once per level: a hostile or broken file must not crash us
        raise ValueError(f"price file {path} is nested too deeply to be a price table") from None
    if not isinstance(data, dict):
        raise ValueError(f"price file {path} must hold a JSON object")
    return data, raw


def _models_of(data: dict[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    # accept both our {"models": {...}} shape and a bare LiteLLM-style {name: entry} dict
    models = data.get("models") if isinstance(data.get("models"), dict) else data
    out: dict[str, dict[str, Any]] = {}
    for name, entry in models.items():
        if name in _META_KEYS or not isinstance(entry, dict):
            continue
        out[name] = entry
    if not out:
        raise ValueError(f"{origin}: no model entries found")
    return out


def _shipped() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)


def _build(path: Path | None) -> PriceTable:
    shipped = _shipped()
    models = _models_of(shipped, "shipped prices.json")
    version = str(shipped["version"])
    source, fetched = str(shipped.get("source", "")), str(shipped.get("fetched", ""))
    if path is not None:
        user, raw = _read_json(path)
        for name, entry in _models_of(user, str(path)).items():
            merged = {**models.get(name, {}), **entry}
            if "history" not in entry and name in models:
                # a user price is today's price: earlier periods of the shipped table stay
                merged["history"] = models[name].get("history", [])
            models[name] = merged
        digest = hashlib.sha256(raw).hexdigest()[:12]
        version = f"{version}+user:{user.get('version', 'unversioned')}:sha256:{digest}"
    where = f"price file {path}: " if path is not None else ""
    for name, entry in models.items():
        try:
            _validate(entry)
        except RecursionError:
            raise ValueError(f"{where}price entry {name!r} is nested too deeply to be a price") from None
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise ValueError(f"{where}price entry {name!r}: {exc}") from None
    return PriceTable(version=version, source=source, fetched=fetched, models=models)


def load_prices(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """The shipped table merged with `path` (or ``$MIRA_PRICES_FILE``); cached per file state."""
    if path is None:
        path = os.environ.get(PRICES_ENV) or None
    resolved = Path(path).expanduser() if path is not None else None
    mtime = size = None
    if resolved is not None:
        try:
            stat = resolved.stat()
        except OSError:
            raise ValueError(f"price file not found: {resolved}") from None
        mtime, size = stat.st_mtime, stat.st_size
    key = (str(resolved) if resolved else None, mtime, size)
    with _lock:
        table = _cache.get(key)
        if table is None:
            table = _cache[key] = _build(resolved)
    return table


def _components(price: ModelPrice | None, usage: Usage, version: str) -> Cost:
    """The table cost of `usage`'s counted tokens (no upper bound, no provider figure)."""
    if price is None:
        return Cost(price_version=version, priced=False)
    # cached is a subset of input and reasoning a subset of output: bill each token once
    cached = min(max(usage.cached_input_tokens, 0), max(usage.input_tokens, 0))
    uncached = max(usage.input_tokens - cached, 0)
    output = max(usage.output_tokens, 0)
    if price.reasoning is None:
        output_usd = output * price.output
    else:
        reasoning = min(max(usage.reasoning_tokens, 0), output)
        output_usd = (output - reasoning) * price.output + reasoning * price.reasoning
    return Cost(
        input_usd=uncached * price.input,
        cached_input_usd=cached * price.cached_input,
        output_usd=output_usd,
        price_version=version,
        priced=True,
    )


def _with_provider_cost(cost: Cost, usage: Usage) -> Cost:
    """The provider's own figure is what was charged: it becomes the total.

    Unless the provider's counts were below what the client saw: its figure comes from
    those counts, so the dearer of it and the table price of what was seen is billed.
    """
    reported = usage.provider_cost_usd
    if reported is None:
        return cost
    components = cost.input_usd + cost.cached_input_usd + cost.output_usd
    if reported < components and usage.below_seen:
        return cost
    return cost.model_copy(
        update={"adjustment_usd": reported - components, "source": "provider", "priced": True}
    )


def _with_upper(cost: Cost, price: ModelPrice | None, usage: Usage) -> Cost:
    """Add the upper bound of a call whose output the client could not fully see."""
    if price is None or usage.output_tokens_upper is None:
        return cost
    upper_output = max(usage.output_tokens_upper, usage.output_tokens)
    # the hidden part may be reasoning: bill it at the dearer of the two output rates
    rate = max(price.output, price.reasoning or price.output)
    extra = (upper_output - max(usage.output_tokens, 0)) * rate
    return cost.model_copy(update={"upper_usd": cost.total_usd + extra})


def cost_of(
    usage: Usage, model_id: str, *, prices: PriceTable | None = None, at: datetime | None = None
) -> Cost:
    """Exact cost of `usage` on `model_id` at instant `at`; unknown models are unpriced.

    A provider-reported cost (OpenRouter ``usage.cost``) is used as the total when present;
    a retried call is the sum of its attempts, each priced on its own (so an attempt the
    provider charged for counts at the provider's figure, another at the table's).
    """
    table = prices or load_prices()
    price = table.lookup(model_id, at)
    cost = Cost()
    for part in usage.attempts or [usage]:
        cost = cost + _with_provider_cost(_components(price, part, table.version), part)
    return _with_upper(cost, price, usage)


def estimate_cost(
    model_id: str,
    input_tokens: int,
    output_tokens: int,
    *,
    cached_input_tokens: int = 0,
    prices: PriceTable | None = None,
) -> Cost:
    """Cost of a hypothetical call at today's prices, for budget pre-checks."""
    usage = Usage(
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        output_tokens=output_tokens,
        source="estimated",
    )
    return cost_of(usage, model_id, prices=prices)


def is_priced(model_id: str, *, prices: PriceTable | None = None) -> bool:
    """Whether the price table knows `model_id`."""
    return (prices or load_prices()).is_priced(model_id)


def unpriced_message(model_id: str) -> str:
    """The one line that refuses an unpriced model under a budget."""
    return (
        f"{model_id} has no price, so a budget cannot hold: {PRICE_HELP} "
        "(or %config Mira.allow_unpriced = True to run it uncounted)"
    )
