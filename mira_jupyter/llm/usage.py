"""Normalise provider usage objects (OpenAI, DeepSeek) into one `Usage` record."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..core.events import Cost, Usage

log = logging.getLogger(__name__)


def _int(value: Any) -> int:
    """A non-negative int from a usage field (None, missing, or junk count as 0)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    return 0


def _details(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def normalize_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """Turn a Chat Completions (or Responses API) usage dict into `Usage`; None when absent.

    ``input_tokens`` is the whole prompt (cached included) and ``output_tokens`` the whole
    completion (reasoning included); the subsets are clamped so they never exceed the totals.
    DeepSeek's ``prompt_cache_hit_tokens`` wins over ``prompt_tokens_details.cached_tokens``.
    """
    if not raw:
        return None
    if "input_tokens" in raw and "prompt_tokens" not in raw:
        return _responses_usage(raw)
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))

    cached = _int(_details(raw, "prompt_tokens_details").get("cached_tokens"))
    if "prompt_cache_hit_tokens" in raw:
        hit = _int(raw.get("prompt_cache_hit_tokens"))
        if "prompt_cache_miss_tokens" in raw:
            miss = _int(raw.get("prompt_cache_miss_tokens"))
            if hit + miss != prompt:
                log.warning(
                    "DeepSeek usage inconsistent: hit %d + miss %d != prompt %d", hit, miss, prompt
                )
                # trust the parts: they are what DeepSeek bills
                prompt = max(prompt, hit + miss)
        cached = hit

    reasoning = _int(_details(raw, "completion_tokens_details").get("reasoning_tokens"))
    if not reasoning:
        # some OpenAI-compatible servers report it at the top level
        reasoning = _int(raw.get("reasoning_tokens"))

    return Usage(
        input_tokens=prompt,
        cached_input_tokens=min(cached, prompt),
        output_tokens=completion,
        reasoning_tokens=min(reasoning, completion),
        source="reported",
    )


def _responses_usage(raw: Mapping[str, Any]) -> Usage:
    """The Responses API's ``ResponseUsage`` shape (``input_tokens``/``output_tokens``)."""
    prompt = _int(raw.get("input_tokens"))
    completion = _int(raw.get("output_tokens"))
    cached = _int(_details(raw, "input_tokens_details").get("cached_tokens"))
    reasoning = _int(_details(raw, "output_tokens_details").get("reasoning_tokens"))
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=min(cached, prompt),
        output_tokens=completion,
        reasoning_tokens=min(reasoning, completion),
        source="reported",
    )


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
