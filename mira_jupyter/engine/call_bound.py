"""What a finished call counts when the client did not see all of it (r14e F1, F2).

A call that reached the model and was then cancelled or cut, or whose stream carried no
usage report, is known only from below: our tiktoken estimate of its prompt says nothing
sure about the provider's count (prompt_bound.py), and it may have produced hidden
reasoning tokens. The dollar budget already charges such a call its reservation; the token
cap counts it the same way, at the bound it reserved: its prompt bound plus the
``max_tokens`` it was sent. Only what a provider itself reported replaces a part of that
bound (its input count; its output count when the report came in full).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.events import Usage
from ..llm.types import ChatModel
from .budget import Reservation
from .output_cap import output_allowance
from .prompt_bound import PromptShape


@dataclass
class InFlight:
    """What the runner knows about a call while it runs."""

    model: ChatModel
    reservation: Reservation
    prompt_tokens: int  # our tiktoken estimate: for the log, never for the cap
    effort: str | None
    shape: PromptShape | None = None  # what the token cap learns the provider's count of
    token_bound: int = 0  # the prompt bound the token cap reserved (prompt_bound.py)
    max_tokens: int = 0  # the output cap each attempt was sent


def bounded(call: InFlight, usage: Usage, status: str, output_reserve: int) -> Usage:
    """Mark usage the client could not fully see with its upper bound (input + max_tokens).

    A call that never reached the model reports zero and stays exact. One that did and
    then was cancelled or cut, or that ended without a usage report, may have produced
    hidden reasoning tokens the client never saw. A retried call is bounded attempt by
    attempt: each earlier attempt failed, and is exact only if its usage report came.
    """
    if not usage.attempts:
        return bounded_attempt(call, usage, status, output_reserve)
    *earlier, last = usage.attempts
    parts = [
        bounded_attempt(call, part, "ok" if part.source == "reported" else "error", output_reserve)
        for part in earlier
    ]
    parts.append(bounded_attempt(call, last, status, output_reserve))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return usage.model_copy(
        update={
            "attempts": parts,
            "input_tokens": total.input_tokens,
            "output_tokens_upper": total.output_tokens_upper,
            "source": total.source,
        }
    )


def bounded_attempt(call: InFlight, usage: Usage, status: str, output_reserve: int) -> Usage:
    """`bounded` for one request sent to the model."""
    from ..llm.usage import inconsistency

    reached = usage.input_tokens > 0 or usage.output_tokens > 0 or usage.source == "estimated"
    if not reached or (status == "ok" and usage.source == "reported"):
        return usage
    if status == "ok" and inconsistency(usage.raw) is not None:
        return usage  # counted, if contradictory: already read at its dearest
    if usage.input_tokens == 0:
        # cut before any token but after sending: the prompt was still read
        usage = usage.model_copy(update={"input_tokens": call.prompt_tokens, "source": "estimated"})
    limit = call.reservation.max_output_tokens or output_allowance(call.model, call.effort, output_reserve)
    return usage.model_copy(update={"output_tokens_upper": max(limit, usage.output_tokens)})


def cap_tokens(call: InFlight, usage: Usage) -> int:
    """The tokens the cap counts for a finished call (`usage` already `bounded`), attempt by
    attempt: a fully reported attempt at its report, any other at its reserved bound."""
    return sum(_attempt_tokens(call, part) for part in usage.attempts or [usage])


def _attempt_tokens(call: InFlight, part: Usage) -> int:
    if not part.bounded:  # reported in full, or never reached the model (zero)
        return part.input_tokens + part.output_tokens
    # the provider's own input count replaces the prompt bound; our estimate never does
    prompt = part.input_tokens if part.source == "reported" else max(call.token_bound, part.input_tokens)
    return prompt + max(call.max_tokens, part.output_tokens_upper or 0, part.output_tokens)


def reports_no_usage(usage: Usage, status: str) -> bool:
    """Whether a call that ended normally came without any usage report (only our estimate)."""
    last = (usage.attempts or [usage])[-1]
    return status == "ok" and last.source == "estimated" and last.raw is None
