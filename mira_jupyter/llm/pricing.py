"""Dollar cost of a model call from its usage and a shipped, versioned price table.

The table uses LiteLLM's field names (``input_cost_per_token``,
``cache_read_input_token_cost``, ``output_cost_per_token``) so an entry can be pasted from
there. Prices are parsed as `Decimal` straight from the JSON text, so costs are exact.
A user file (``MIRA_PRICES_FILE`` or an explicit path) is merged over the shipped table and
its version is recorded in every `Cost.price_version`, so a price change never rewrites
the history already logged.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.events import Cost, Usage
from ._names import model_name_candidates

PRICES_ENV = "MIRA_PRICES_FILE"

_lock = threading.Lock()
_cache: dict[tuple[str | None, float | None], PriceTable] = {}


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
            input_rate = Decimal(str(entry["input_cost_per_token"]))
            output_rate = Decimal(str(entry["output_cost_per_token"]))
        except KeyError as exc:
            raise ValueError(f"price entry lacks {exc.args[0]!r}") from None
        cached = entry.get("cache_read_input_token_cost")
        reasoning = entry.get("output_cost_per_reasoning_token")
        return cls(
            input=input_rate,
            cached_input=input_rate if cached is None else Decimal(str(cached)),
            output=output_rate,
            reasoning=None if reasoning is None else Decimal(str(reasoning)),
        )


@dataclass(frozen=True)
class PriceTable:
    """The merged price table and the version string recorded with each cost."""

    version: str
    source: str
    fetched: str
    models: dict[str, dict[str, Any]]

    def lookup(self, model_id: str) -> ModelPrice | None:
        """Price of `model_id` (``provider:model``, then the bare model name), or None."""
        for name in model_name_candidates(model_id):
            entry = self.models.get(name)
            if entry is not None:
                return ModelPrice.from_entry(entry)
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise ValueError(f"price file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"price file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"price file {path} must hold a JSON object")
    return data


def _models_of(data: dict[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    # accept both our {"models": {...}} shape and a bare LiteLLM-style {name: entry} dict
    models = data.get("models") if isinstance(data.get("models"), dict) else data
    out: dict[str, dict[str, Any]] = {}
    for name, entry in models.items():
        if name in ("version", "source", "fetched", "sample_spec") or not isinstance(entry, dict):
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
        user = _read_json(path)
        for name, entry in _models_of(user, str(path)).items():
            models[name] = {**models.get(name, {}), **entry}
        version = f"{version}+user:{user.get('version', 'unversioned')}"
    for name, entry in models.items():
        try:
            ModelPrice.from_entry(entry)
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"price entry {name!r}: {exc}") from None
    return PriceTable(version=version, source=source, fetched=fetched, models=models)


def load_prices(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """The shipped table merged with `path` (or ``$MIRA_PRICES_FILE``); cached per file mtime."""
    if path is None:
        path = os.environ.get(PRICES_ENV) or None
    resolved = Path(path).expanduser() if path is not None else None
    mtime = None
    if resolved is not None:
        try:
            mtime = resolved.stat().st_mtime
        except OSError:
            raise ValueError(f"price file not found: {resolved}") from None
    key = (str(resolved) if resolved else None, mtime)
    with _lock:
        table = _cache.get(key)
        if table is None:
            table = _cache[key] = _build(resolved)
    return table


def _cost(price: ModelPrice | None, usage: Usage, version: str) -> Cost:
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


def cost_of(usage: Usage, model_id: str, *, prices: PriceTable | None = None) -> Cost:
    """Exact cost of `usage` on `model_id`; unknown models give ``Cost(priced=False)``."""
    table = prices or load_prices()
    return _cost(table.lookup(model_id), usage, table.version)


def estimate_cost(
    model_id: str,
    input_tokens: int,
    output_tokens: int,
    *,
    cached_input_tokens: int = 0,
    prices: PriceTable | None = None,
) -> Cost:
    """Cost of a hypothetical call, for budget pre-checks."""
    usage = Usage(
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        output_tokens=output_tokens,
        source="estimated",
    )
    return cost_of(usage, model_id, prices=prices)


def is_priced(model_id: str, *, prices: PriceTable | None = None) -> bool:
    """Whether the price table knows `model_id`."""
    return (prices or load_prices()).lookup(model_id) is not None
