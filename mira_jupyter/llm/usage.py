"""Normalise provider usage objects into one `Usage` record; the one place that does so.

Chat Completions (OpenAI, DeepSeek, OpenRouter, local servers) and the Responses API
shapes are both understood. Every `Usage` made here keeps the provider's object in
``raw`` (for repricing and audits) and OpenRouter's ``usage.cost`` in
``provider_cost_usd``. A usage object whose counts are missing, strings, negative,
fractional, larger than any model's context could hold, or otherwise nonsense is not
trusted: `resolve_usage` falls back to the tokenizer estimate, marked ``estimated``, and
still keeps the raw object (so the call's row is stored, not rejected by a column that
cannot hold 1e30). A reported cost beyond what one call can cost is dropped the same way.
`untrusted_reason` says why, for the one notice an operation shows about it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..core.events import Cost, Usage

log = logging.getLogger(__name__)


# No model reads or writes this many tokens in one call (the largest contexts are ~10M);
# a count above it is a provider bug, and would overflow the log's BIGINT/DECIMAL columns.
MAX_PLAUSIBLE_TOKENS = 100_000_000
# Nor does one call cost this much: the same cap as a budget (what the DECIMAL columns hold)
MAX_PLAUSIBLE_COST_USD = Decimal(1_000_000)


class _Nonsense(ValueError):
    """A usage field that cannot be a token count."""


def _count(raw: Mapping[str, Any], key: str, *, required: bool = False) -> int:
    """A token count from `raw[key]`: absent is 0 (or nonsense if `required`)."""
    if key not in raw or raw.get(key) is None:
        if required:
            raise _Nonsense(f"{key} missing")
        return 0
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Nonsense(f"{key}={value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise _Nonsense(f"{key}={value!r}")
    if value < 0 or value > MAX_PLAUSIBLE_TOKENS:
        raise _Nonsense(f"{key}={value!r}")
    return int(value)


def _details(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def _plain(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of the provider's usage object (what gets stored)."""
    try:
        return json.loads(json.dumps(raw, default=str))
    except (TypeError, ValueError, RecursionError):
        return {"unserialisable": repr(raw)[:2000]}


def provider_cost(raw: Mapping[str, Any] | None) -> Decimal | None:
    """OpenRouter's ``usage.cost`` (USD actually charged), or None when absent or junk."""
    if not raw or "cost" not in raw:
        return None
    value = raw.get("cost")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        return None
    return cost if cost.is_finite() and 0 <= cost <= MAX_PLAUSIBLE_COST_USD else None


def untrusted_reason(raw: Mapping[str, Any] | None) -> str | None:
    """Why a provider usage object is not used as reported (None when it is, or is absent)."""
    if not raw or not isinstance(raw, Mapping):
        return None
    try:
        _parse(raw)
    except _Nonsense as exc:
        return str(exc)
    if "cost" in raw and provider_cost(raw) is None:
        return f"cost={raw.get('cost')!r}"
    return None


def _read(raw: Mapping[str, Any]) -> tuple[Usage, list[str]]:
    """The usage `raw` reports and how it contradicts itself (read the dear way)."""
    problems: list[str] = []
    if "prompt_tokens" in raw or "completion_tokens" in raw:
        return _chat_completions(raw, problems), problems
    if "input_tokens" in raw or "output_tokens" in raw:
        return _responses(raw, problems), problems
    raise _Nonsense("no token counts")


def _parse(raw: Mapping[str, Any]) -> Usage:
    """The usage `raw` reports; an inconsistent one read at its dearest consistent reading
    and marked ``estimated`` (`inconsistency` says why)."""
    return _read(raw)[0]


def _consistent(
    prompt: int, cached: int, completion: int, reasoning: int, problems: list[str]
) -> Usage:
    """A `Usage` whose parts fit in their totals, reading a contradiction the dear way.

    A subset larger than its total (cached > prompt, reasoning > completion) has two
    readings: the subset is wrong (clamp it) or the total excludes it (add them). The
    second always costs more, so it is the one taken: a provider's bug must not make a
    call cheaper than it may have been billed.
    """
    if cached > prompt:
        problems.append(f"cached {cached:,} > prompt {prompt:,}")
        prompt += cached
    if reasoning > completion:
        problems.append(f"reasoning {reasoning:,} > completion {completion:,}")
        completion += reasoning
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=cached,
        output_tokens=completion,
        reasoning_tokens=reasoning,
        source="estimated" if problems else "reported",
    )


def _chat_completions(raw: Mapping[str, Any], problems: list[str]) -> Usage:
    prompt = _count(raw, "prompt_tokens", required=True)
    completion = _count(raw, "completion_tokens", required=True)
    cached = _count(_details(raw, "prompt_tokens_details"), "cached_tokens")
    if "prompt_cache_hit_tokens" in raw:
        hit = _count(raw, "prompt_cache_hit_tokens")
        if "prompt_cache_miss_tokens" in raw:
            miss = _count(raw, "prompt_cache_miss_tokens")
            # DeepSeek bills exactly these two parts; when they do not add up to the
            # prompt, the uncounted rest is billed as misses (the dearer reading)
            if hit + miss != prompt:
                problems.append(
                    f"prompt_cache_hit_tokens {hit:,} + prompt_cache_miss_tokens {miss:,} "
                    f"!= prompt_tokens {prompt:,}"
                )
            prompt = max(prompt, hit + miss)
            cached = min(hit, prompt - miss)
        else:
            cached = hit
    reasoning = _count(_details(raw, "completion_tokens_details"), "reasoning_tokens")
    if not reasoning:
        # some OpenAI-compatible servers report it at the top level
        reasoning = _count(raw, "reasoning_tokens")
    return _consistent(prompt, cached, completion, reasoning, problems)


def _responses(raw: Mapping[str, Any], problems: list[str]) -> Usage:
    prompt = _count(raw, "input_tokens", required=True)
    completion = _count(raw, "output_tokens", required=True)
    cached = _count(_details(raw, "input_tokens_details"), "cached_tokens")
    reasoning = _count(_details(raw, "output_tokens_details"), "reasoning_tokens")
    return _consistent(prompt, cached, completion, reasoning, problems)


def inconsistency(raw: Mapping[str, Any] | None) -> str | None:
    """How a provider's usage object contradicts itself (None when it does not, or is
    nonsense: `untrusted_reason` says that)."""
    if not raw or not isinstance(raw, Mapping):
        return None
    try:
        _, problems = _read(raw)
    except _Nonsense:
        return None
    return "; ".join(problems) or None


def normalize_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """Turn a provider usage object into `Usage`; None when absent or not trustworthy.

    ``input_tokens`` is the whole prompt (cached included) and ``output_tokens`` the whole
    completion (reasoning included); the subsets are clamped so they never exceed the totals.
    DeepSeek's ``prompt_cache_hit_tokens``/``prompt_cache_miss_tokens`` win over
    ``prompt_tokens``. Responses-API objects (``input_tokens``/``output_tokens``) work too.
    """
    if not raw or not isinstance(raw, Mapping):
        return None
    try:
        usage = _parse(raw)
    except _Nonsense as exc:
        # debug only: the engine says it once per operation (repricing reads many such rows)
        log.debug("provider usage not usable (%s); the call is estimated instead", exc)
        return None
    return usage.model_copy(update={"raw": _plain(raw), "provider_cost_usd": provider_cost(raw)})


# Tokenizers differ, but not by half on the same text: a count below half of what the
# client itself counted with tiktoken (beyond a little slack for short texts) cannot be a
# count of this call. Zero for something seen is never one.
_SEEN_SLACK_TOKENS = 16


def _undercounts(reported: int, seen: int) -> bool:
    return seen > 0 and (reported == 0 or reported * 2 + _SEEN_SLACK_TOKENS < seen)


def seen_contradiction(reported: Usage | None, seen: Usage) -> str | None:
    """How `reported` counts less than the client itself saw (`seen`: the tokenizer's count
    of the prompt sent and the output received), or None when it does not."""
    if reported is None:
        return None
    problems = []
    if _undercounts(reported.input_tokens, seen.input_tokens):
        problems.append(
            f"prompt {reported.input_tokens:,} for a prompt of ~{seen.input_tokens:,} tokens"
        )
    if _undercounts(reported.output_tokens, seen.output_tokens):
        problems.append(
            f"completion {reported.output_tokens:,} for ~{seen.output_tokens:,} tokens received"
        )
    return "; ".join(problems) or None


def _dearer_than_seen(reported: Usage, seen: Usage) -> Usage:
    """The dearest reading of a report that undercounts what was seen, marked ``estimated``.

    A part contradicted by what was seen is not trusted at all: a contradicted prompt is
    billed whole at the uncached rate, a contradicted completion as what was received plus
    any reasoning the report names.
    """
    usage = reported
    if _undercounts(reported.input_tokens, seen.input_tokens):
        usage = usage.model_copy(
            update={"input_tokens": max(reported.input_tokens, seen.input_tokens), "cached_input_tokens": 0}
        )
    if _undercounts(reported.output_tokens, seen.output_tokens):
        output = max(reported.output_tokens, seen.output_tokens + reported.reasoning_tokens)
        usage = usage.model_copy(update={"output_tokens": output})
    return usage.model_copy(update={"source": "estimated", "below_seen": True})


def resolve_usage(raw: Mapping[str, Any] | None, estimate: Callable[[], Usage]) -> Usage:
    """The reported usage if it can be trusted, else `estimate()` (kept with the raw object).

    A report that counts less than the client saw (zero prompt tokens for a prompt that was
    sent, one completion token for a streamed page) is not trusted either: the call is
    read the dear way (`_dearer_than_seen`), marked ``estimated``, never a ``reported`` $0.
    """
    reported = normalize_usage(raw)
    if reported is not None:
        seen = estimate()
        if seen_contradiction(reported, seen) is None:
            return reported
        log.debug("provider usage counts less than was seen; the call is estimated instead")
        return _dearer_than_seen(reported, seen)
    estimated = estimate()
    if raw:
        return estimated.model_copy(
            update={"raw": _plain(raw), "provider_cost_usd": provider_cost(raw)}
        )
    return estimated


def estimate_usage(
    messages: list[dict[str, Any]],
    output_text: str = "",
    tool_arguments: list[str] | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> Usage:
    """Estimate usage with the tokenizer when the provider reported none (source="estimated")."""
    from .tokens import count_message_tokens, count_tokens

    output = count_tokens(output_text) + sum(count_tokens(a) for a in tool_arguments or ())
    return Usage(
        input_tokens=count_message_tokens(messages, tools),
        output_tokens=output,
        source="estimated",
    )


# chat framing of a request (system + user message, reply priming), as the engine counts it
_FRAMING_TOKENS = 3 + 3 + 3


def estimate_cut_call(model_id: str, request: str, partial_output: str) -> tuple[Usage, Cost]:
    """Usage and cost of a call a dead kernel never finished, from what the log recorded.

    The request text is a lower bound of the prompt (the system prompt and tool results
    were not recorded); the partial output is what was streamed before the kill.
    """
    from . import pricing
    from .tokens import count_tokens

    usage = Usage(
        input_tokens=count_tokens(request) + _FRAMING_TOKENS,
        output_tokens=count_tokens(partial_output),
        source="estimated",
    )
    return usage, pricing.cost_of(usage, model_id)
