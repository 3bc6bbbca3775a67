"""What each model accepts: reasoning effort, output token limit, API; plus effort normalisation."""

from __future__ import annotations

import fnmatch
import json
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ._names import model_name_candidates

MODELS_ENV = "MIRA_MODELS_FILE"

Effort = Literal["minimal", "low", "medium", "high"]
# what a model with reasoning effort accepts unless its capability entry lists "efforts"
DEFAULT_EFFORTS: tuple[str, ...] = ("low", "medium", "high")
EFFORT_ORDER: tuple[str, ...] = ("minimal", "low", "medium", "high")

_EFFORTS: dict[str, Effort] = {
    "minimal": "minimal",
    "low": "low",
    "quick": "low",
    "fast": "low",
    "light": "low",
    "medium": "medium",
    "normal": "medium",
    "default": "medium",
    "balanced": "medium",
    "high": "high",
    "thorough": "high",
    "deep": "high",
    "hard": "high",
    "max": "high",
}


def normalize_effort(value: str) -> Effort:
    """Map an effort word to "minimal", "low", "medium" or "high"; ValueError for anything else.

    Every canonical level maps to itself: no level is ever silently turned into another.
    """
    if not isinstance(value, str):
        raise ValueError(f"reasoning effort must be a string, got {type(value).__name__}")
    key = value.strip().lower()
    if key in _EFFORTS:
        return _EFFORTS[key]
    raise ValueError(
        f"unknown reasoning effort {value!r}: use minimal, low, medium or high "
        "(synonyms: quick/fast/light, normal/default/balanced, thorough/deep/hard/max)"
    )


@dataclass(frozen=True)
class ModelCapabilities:
    """Per-model facts the client needs when building a request."""

    supports_reasoning_effort: bool = False
    max_output_tokens: int | None = None
    # the openai provider reaches this model over the Responses API (reasoning carried)
    responses_api: bool = False
    # thinks before answering whatever the request says (deepseek-reasoner): its hidden
    # reasoning counts against the output cap, like that of a model with reasoning effort
    reasons: bool = False
    # the effort levels the model accepts natively (a level it lacks is sent one step up)
    efforts: tuple[str, ...] = DEFAULT_EFFORTS
    # takes tool definitions (an entry says "tools": false for a model that does not)
    supports_tools: bool = True
    # accepts a ``tool_choice`` ("none", "auto", a named tool). deepseek-reasoner answers a
    # forced choice with HTTP 400, so none is sent to it: calls are steered by the prompt
    tool_choice: bool = True
    # the tokenizer the model's provider counts prompts with, when it is the one mira counts
    # with ("o200k_base": OpenAI's current models): the token cap then needs a smaller margin
    tokenizer: str | None = None

    def effort_to_send(self, requested: str | None) -> Effort | None:
        """The effort sent for the word `requested`: normalised, and where the model lacks
        that level the next one up it has (``minimal`` is ``low`` on most models, anything
        is ``high`` on gpt-5-pro), else the highest it has; None when the model takes no
        effort at all."""
        if requested is None or not self.supports_reasoning_effort:
            if requested is not None:
                normalize_effort(requested)  # a bad word is refused whatever the model
            return None
        effort = normalize_effort(requested)
        if effort in self.efforts or not self.efforts:
            return effort
        rank = EFFORT_ORDER.index(effort)
        has = [level for level in EFFORT_ORDER if level in self.efforts]
        above = [level for level in has if EFFORT_ORDER.index(level) > rank]
        return above[0] if above else has[-1]  # type: ignore[return-value]

    @property
    def spends_output_on_reasoning(self) -> bool:
        """Whether part of the output cap goes to reasoning tokens the user never sees."""
        return self.supports_reasoning_effort or self.reasons


_lock = threading.Lock()
_cache: dict[tuple[str | None, float | None], dict[str, dict[str, Any]]] = {}


def _models_from(data: Any, origin: str) -> dict[str, dict[str, Any]]:
    models = data.get("models", data) if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f"{origin}: expected a JSON object of models")
    return {k: v for k, v in models.items() if isinstance(v, dict)}


def _table(path: str | None) -> dict[str, dict[str, Any]]:
    resolved = Path(path).expanduser() if path else None
    mtime = None
    if resolved is not None:
        try:
            mtime = resolved.stat().st_mtime
        except OSError:
            raise ValueError(f"models file not found: {resolved}") from None
    key = (str(resolved) if resolved else None, mtime)
    with _lock:
        if key in _cache:
            return _cache[key]
        text = resources.files(__package__).joinpath("models.json").read_text(encoding="utf-8")
        table = _models_from(json.loads(text), "models.json")
        if resolved is not None:
            try:
                user = json.loads(resolved.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"models file {resolved} is not valid JSON: {exc}") from None
            for name, entry in _models_from(user, str(resolved)).items():
                table[name] = {**table.get(name, {}), **entry}
        _cache[key] = table
        return table


def _match(table: dict[str, dict[str, Any]], model_id: str) -> dict[str, Any] | None:
    names = model_name_candidates(model_id)
    for name in names:
        if name in table:
            return table[name]
    # most specific pattern wins: "gpt-5-chat*" over "gpt-5*"
    best: tuple[int, dict[str, Any]] | None = None
    for pattern, entry in table.items():
        if any(ch in pattern for ch in "*?[") and any(
            fnmatch.fnmatchcase(name, pattern) for name in names
        ):
            score = len(pattern.rstrip("*"))
            if best is None or score > best[0]:
                best = (score, entry)
    return best[1] if best else None


def capabilities_for(model_id: str, *, models_file: str | None = None) -> ModelCapabilities:
    """Capabilities of `model_id`; unknown models get conservative defaults (no effort)."""
    entry = _match(_table(models_file or os.environ.get(MODELS_ENV) or None), model_id) or {}
    max_out = entry.get("max_output_tokens")
    effort = bool(entry.get("supports_reasoning_effort", False))
    return ModelCapabilities(
        supports_reasoning_effort=effort,
        max_output_tokens=int(max_out) if max_out else None,
        responses_api=bool(entry.get("responses_api", False)),
        reasons=bool(entry.get("reasons", False)),
        efforts=_efforts_of(entry, model_id),
        supports_tools=bool(entry.get("tools", True)),
        tool_choice=bool(entry.get("tool_choice", True)),
        tokenizer=entry["tokenizer"] if isinstance(entry.get("tokenizer"), str) else None,
    )


_refusing: set[str] = set()  # models whose provider answered a tool_choice with HTTP 400


def takes_tool_choice(model_id: str) -> bool:
    """Whether a call to `model_id` may carry ``tool_choice``: its table entry allows it
    and its provider has not refused one in this process."""
    with _lock:
        if model_id in _refusing:
            return False
    return capabilities_for(model_id).tool_choice


def refuses_tool_choice(model_id: str) -> None:
    """Remember that `model_id`'s provider rejected a ``tool_choice``: none is sent again."""
    with _lock:
        _refusing.add(model_id)


def _efforts_of(entry: dict[str, Any], model_id: str) -> tuple[str, ...]:
    """The entry's ``efforts`` list, checked: only known levels."""
    listed = entry.get("efforts")
    if listed is None:
        return DEFAULT_EFFORTS
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        raise ValueError(f"models table: 'efforts' of {model_id} must be a list of effort levels")
    return tuple(normalize_effort(x) for x in listed)


# Output tokens each phase may need for what the user (or the engine) reads. A call that
# needs more is cut with finish_reason "length" and said so; without a cap, a local model
# stuck in a loop wrote 7,640 tokens for 8 minutes into one answer.
PHASE_OUTPUT_TOKENS: dict[str, int] = {
    "classify": 256,  # a label or a score
    "plan": 2_048,  # a submit_plan call: a few short tasks
    "orchestrate": 2_048,  # one turn: tool calls and a short note
    "simple": 4_096,  # an answer in a cell
    "compose": 4_096,  # the final answer
    "skill": 4_096,  # a skill's report
    "executor": 8_192,  # delegated work: a whole file's content
}
# on top, for models whose hidden reasoning counts as output (by reasoning effort)
REASONING_OUTPUT_TOKENS: dict[str, int] = {"minimal": 2_048, "low": 4_096, "medium": 16_384, "high": 32_768}


def phase_of(purpose: str) -> str:
    """The phase of a call's purpose: ``delegate:read_code`` -> executor, ``skill:x`` -> skill."""
    head = purpose.split(":", 1)[0]
    if head == "delegate":
        return "executor"
    return head if head in PHASE_OUTPUT_TOKENS else "orchestrate"


def output_token_cap(
    model_id: str,
    purpose: str,
    *,
    reasoning_effort: str | None = None,
    configured: int | None = None,
) -> int:
    """The output-token cap (``max_tokens``) to send on one call: `configured`
    (``Mira.max_output_tokens``) or the phase's default plus a reasoning allowance,
    never above the model's own limit in the capability table.

    This is the one place the cap is decided: the client sends it, and a budget reserves
    the input estimate plus this many output tokens.
    """
    caps = capabilities_for(model_id)
    if configured is not None:
        cap = configured
    else:
        cap = PHASE_OUTPUT_TOKENS[phase_of(purpose)]
        if caps.spends_output_on_reasoning:
            cap += REASONING_OUTPUT_TOKENS[normalize_effort(reasoning_effort or "medium")]
    if caps.max_output_tokens:
        cap = min(cap, caps.max_output_tokens)
    return max(1, cap)
