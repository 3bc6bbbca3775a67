"""``%mira models``: the providers and the models Mira knows, like ``%ai list``.

One row per priced model (the shipped price table plus the user's file), with its prices per
million tokens, whether it reasons and takes tools (the capability table), and whether its
provider's key is set. Providers without a known model (local servers, the scripted model)
get one ``provider:*`` row. A key's value is never read into the frame: only whether the
environment variable is non-empty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .help import arg, takes

if TYPE_CHECKING:
    from .magics import MiraMagics

PER_MILLION = Decimal(1_000_000)
COLUMNS = ("model", "provider", "input $/1M", "cached $/1M", "output $/1M", "reasoning", "tools", "key")


def _key_label(status: Any) -> str:
    if status is None or not status.env_var:
        return "no key needed"
    if status.is_set:
        return f"{status.env_var} set"
    return f"{status.env_var} not set" + ("" if status.required else " (optional)")


def _provider_of(name: str, entry: dict[str, Any], providers: Any) -> tuple[str, str] | None:
    """(provider, model) of a price-table entry, or None when no registered provider serves it."""
    if ":" in name:
        provider, _, model = name.partition(":")
    else:
        provider, model = str(entry.get("litellm_provider") or ""), name
    return (provider, model) if provider in providers else None


def _per_million(rate: Decimal | None) -> float | None:
    # a float, so the column sorts and reads like a price list (2.5, not Decimal('2.500'))
    return None if rate is None else float(rate * PER_MILLION)


def model_rows(prices: Any, key_statuses: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``%mira models``, providers in registration order, models by name."""
    from ..llm.capabilities import capabilities_for
    from ..llm.providers import PROVIDERS

    known: dict[str, list[tuple[str, dict[str, Any]]]] = {name: [] for name in PROVIDERS}
    for name, entry in prices.models.items():
        served = _provider_of(name, entry, PROVIDERS)
        if served is not None:
            known[served[0]].append((served[1], entry))
    rows = []
    for provider, models in known.items():
        key = _key_label(key_statuses.get(provider))
        if not models:
            rows.append({"model": f"{provider}:*", "provider": provider, "reasoning": "", "tools": "", "key": key})
            continue
        for model, _entry in sorted(models):
            model_id = f"{provider}:{model}"
            price = prices.lookup(model_id)
            caps = capabilities_for(model_id)
            rows.append(
                {
                    "model": model_id,
                    "provider": provider,
                    "input $/1M": _per_million(price.input if price else None),
                    "cached $/1M": _per_million(price.cached_input if price else None),
                    "output $/1M": _per_million(price.output if price else None),
                    "reasoning": "yes" if caps.spends_output_on_reasoning else "no",
                    "tools": "yes" if caps.supports_tools else "no",
                    "key": key,
                }
            )
    return rows


@takes(arg("--provider", help="Only this provider's models."))
def models(magics: MiraMagics, argv: list[str]) -> Any:
    """Providers and known models: prices, reasoning and tools, whether each key is set (never its value)."""
    args = models.parser().parse_args(argv)
    import pandas as pd

    from ..llm.providers import PROVIDERS, key_status
    from .help import SubcommandError
    from .tables import log_frame

    if args.provider is not None and args.provider not in PROVIDERS:
        raise SubcommandError(f"no provider {args.provider!r}; known providers: {', '.join(PROVIDERS)}")
    config = magics.session.config
    settings = config.engine_settings()
    rows = model_rows(magics.session.engine.prices, key_status(settings.provider_settings))
    if args.provider is not None:
        rows = [row for row in rows if row["provider"] == args.provider]
    return log_frame(pd.DataFrame(rows, columns=list(COLUMNS)))
