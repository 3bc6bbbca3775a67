"""How many output tokens a call is expected to need (the cap itself: llm.capabilities.output_token_cap).

A reasoning model spends hidden reasoning tokens, billed as output, before the first
visible one, so its pre-call estimate carries an allowance sized by the reasoning effort
(README "Budgets"). Under a budget a call is sent only if the budget has room for its input
plus that allowance, and its max_tokens is what the budget can pay for, up to the cap.
"""

from __future__ import annotations

from typing import Any

# hidden reasoning tokens assumed per call, by effort (added to the visible reserve)
REASONING_ALLOWANCE: dict[str, int] = {
    "minimal": 1_024,
    "low": 2_048,
    "medium": 8_192,
    "high": 16_384,
}
DEFAULT_EFFORT = "medium"  # what a reasoning model uses when no effort is sent


def is_reasoning_model(model: Any) -> bool:
    """Whether `model` bills hidden reasoning tokens (from its capabilities)."""
    capabilities = getattr(model, "capabilities", None)
    if capabilities is not None and getattr(capabilities, "spends_output_on_reasoning", False):
        return True
    try:
        return bool(model.supports_reasoning_effort())
    except AttributeError:
        return False


def output_allowance(model: Any, effort: str | None, visible_tokens: int = 1_024) -> int:
    """Output tokens a call is expected to need: the visible reserve plus, for reasoning
    models, the reasoning allowance of `effort`."""
    if not is_reasoning_model(model):
        return visible_tokens
    from ..llm.capabilities import normalize_effort

    try:
        # the word as typed ("Low", "quick"): the plan's estimate gets the user's own -r
        level = normalize_effort(effort or DEFAULT_EFFORT)
    except ValueError:
        level = "high"  # refused where it was set; the dearest allowance if one gets here
    return visible_tokens + REASONING_ALLOWANCE[level]
