"""Dollars as every view shows them (widget, Out[] summary, %mira costs, budget messages).

One formatter, so that a budget of $1e-12 never reads "$0.0000" in one place and something
else in another. Amounts of a tenth of a cent or more get four decimals (``$0.0123``,
``$1,234.5000``); smaller ones get as many decimals as their first two significant digits
need (``$0.00015``, ``$0.000000000001``), so a non-zero amount never reads as zero. Huge
amounts are written out in full with thousands separators, never in exponent notation.
Every amount matches the notebooks' sanitizer pattern ``\\$[\\d,]*\\.\\d+``. NaN and
infinity are not amounts: they read "unknown amount (NaN)" and never a dollar figure.

The log keeps dollars as DECIMAL(18, 9); `stored_usd` rounds a cost up to that precision,
so a call that cost $1e-12 is stored as $0.000000001, never as free.
"""

from __future__ import annotations

from decimal import MIN_EMIN, ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from .events import Cost

_FOUR_PLACES_FROM = Decimal("0.001")
# the log's money columns are DECIMAL(18, 9)
STORED_QUANTUM = Decimal("1e-9")
# the periods a team budget can run over (UTC); here, below both config and the store's
# ledger, so the setting's check and the ledger share one list
TEAM_BUDGET_PERIODS: tuple[str, ...] = ("day", "month")


def stored_usd(value: Decimal | None) -> Decimal | None:
    """`value` at the log's precision, rounded up: a non-zero cost is never stored as $0."""
    if value is None:
        return None
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"a cost of {value} cannot be stored")
    with localcontext() as context:
        context.prec = 40
        return amount.quantize(STORED_QUANTUM, rounding=ROUND_CEILING)


# below 1e-15 dollars an amount is written in exponent form (``$5.0e-324``), not in zeros
_FULL_DIGITS_DOWN_TO = -15


def usd(value: Decimal | float | int | str) -> str:
    """An amount of dollars, honest at any size: ``$0.0123``, ``$0.00015``, ``-$2.0000``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return f"unknown amount ({str(value)[:40]})"
    if not amount.is_finite():
        # NaN or infinity is a bug upstream, never a price: say so, in no dollar format
        return f"unknown amount ({'NaN' if amount.is_nan() else 'infinite'})"
    if amount == 0:
        return "$0.0000"
    sign, amount = ("-" if amount < 0 else ""), amount.copy_abs()  # abs() would round
    if amount.adjusted() < _FULL_DIGITS_DOWN_TO:
        # a denormal float or a hostile Decimal would be hundreds of zeros: two significant
        # digits in exponent form instead (such an amount is never a real price)
        with localcontext() as context:
            context.prec, context.rounding = 2, ROUND_HALF_UP
            context.Emin, context.clamp = MIN_EMIN, 0  # tiny exponents stay exact
            return f"{sign}${+amount:.1e}"
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
