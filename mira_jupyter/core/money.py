"""Dollars as every view shows them (widget, Out[] summary, %mira costs, budget messages).

One formatter, so that a budget of $1e-12 never reads "$0.0000" in one place and something
else in another. Amounts of a tenth of a cent or more get four decimals (``$0.0123``,
``$1,234.5000``); smaller ones get as many decimals as their first two significant digits
need (``$0.00015``, ``$0.000000000001``), so a non-zero amount never reads as zero. Huge
amounts are written out in full with thousands separators, never in exponent notation.
Every result matches the notebooks' sanitizer pattern ``\\$[\\d,]*\\.\\d+``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from .events import Cost

_FOUR_PLACES_FROM = Decimal("0.001")


def usd(value: Decimal | float | int | str) -> str:
    """An amount of dollars, honest at any size: ``$0.0123``, ``$0.00015``, ``-$2.0000``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"${value}"
    if not amount.is_finite():
        return f"${amount}"
    if amount == 0:
        return "$0.0000"
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    # two significant digits below a tenth of a cent, four decimals from there up
    places = 4 if amount >= _FOUR_PLACES_FROM else max(4, -amount.adjusted() + 1)
    with localcontext() as context:
        context.prec = max(28, amount.adjusted() + places + 2)  # a huge amount keeps its digits
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(4, "0")  # no trailing zeros past the fourth place
    return f"{sign}${whole}.{decimals}"


def cost_text(cost: Cost) -> str:
    """A cost: "unpriced" (never $0.00) without a price, "(at most $X)" when only bounded."""
    if not cost.priced and cost.total_usd == 0 and not cost.bounded:
        return "unpriced"
    text = usd(cost.total_usd)
    if cost.bounded and cost.most_usd != cost.total_usd:
        text += f" (at most {usd(cost.most_usd)})"
    return text if cost.priced else text + " + unpriced"
