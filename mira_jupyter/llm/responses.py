"""`OpenAIResponsesModel`: the ChatModel over OpenAI's Responses API (``/v1/responses``).

Used for OpenAI's reasoning models, because the Responses API keeps their reasoning
across tool calls: the plan's reasoning reaches execution instead of being thrown away
each turn. Everything about transport, retries, cancellation and error mapping is the
Chat Completions client's (this is a subclass); what differs is the request
(`responses_input`), the stream fold (`responses_stream`) and how a response ends:
``response.failed`` and ``response.incomplete`` are failures that keep the partial cost.

By default nothing is stored at the provider (``store=False``) and reasoning is carried
as ``encrypted_content`` items; ``store=True`` chains calls with ``previous_response_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.events import Usage
from .client import OpenAICompatibleModel
from .errors import CallContext
from .responses_input import build_input, fingerprint, output_state, to_tools
from .responses_stream import ResponsesAccumulator
from .types import (
    BadResponseError,
    ChatResponse,
    Message,
    ModelError,
    ToolChoice,
    responses_tool_choice,
)

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

SUMMARY_CHOICES = ("auto", "concise", "detailed", "none")


class ResponseIncompleteError(ModelError):
    """The response stopped early (``response.incomplete``): output cap or content filter."""

    kind = "incomplete"


class OpenAIResponsesModel(OpenAICompatibleModel):
    """A ChatModel over the Responses API, carrying reasoning from call to call."""

    def __init__(
        self,
        *args: Any,
        store: bool = False,
        reasoning_summary: str = "auto",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_tokens_param", "max_output_tokens")
        super().__init__(*args, **kwargs)
        if reasoning_summary not in SUMMARY_CHOICES:
            raise ValueError(
                f"reasoning_summary must be one of {', '.join(SUMMARY_CHOICES)}, "
                f"got {reasoning_summary!r}"
            )
        self.store = bool(store)
        self.reasoning_summary = reasoning_summary

    def __repr__(self) -> str:
        return f"OpenAIResponsesModel({self.model_id!r}, store={self.store})"

    @property
    def api(self) -> str:
        """Which OpenAI API this model calls."""
        return "responses"

    def _params(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        reasoning_effort: str | None,
        max_tokens: int | None,
        tool_choice: ToolChoice | None = None,
    ) -> dict[str, Any]:
        items, previous = build_input(messages, store=self.store)
        params: dict[str, Any] = {
            "model": self.model,
            "input": items,
            "stream": True,
            "store": self.store,
        }
        if previous is not None:
            params["previous_response_id"] = previous
        converted = to_tools(tools)
        if converted:
            params["tools"] = converted
            if tool_choice is not None:
                params["tool_choice"] = responses_tool_choice(tool_choice)
        if self.supports_reasoning_effort():
            reasoning: dict[str, Any] = {}
            effort = self.capabilities.effort_to_send(reasoning_effort)
            if effort is not None:
                reasoning["effort"] = effort
            if self.reasoning_summary != "none":
                reasoning["summary"] = self.reasoning_summary
            if reasoning:
                params["reasoning"] = reasoning
            if not self.store:
                # the only way to hand reasoning back when the provider keeps nothing
                params["include"] = ["reasoning.encrypted_content"]
        if max_tokens is not None:
            cap = self.capabilities.max_output_tokens
            params["max_output_tokens"] = min(max_tokens, cap) if cap else max_tokens
        return params

    def chat(self, messages: list[Message], **kwargs: Any) -> ChatResponse:
        """One streamed response; reasoning from earlier calls in `messages` is carried."""
        try:
            response = super().chat(messages, **kwargs)
        except BadResponseError as exc:
            # OpenAI refuses summaries to organisations it has not verified; the call is
            # still worth making without them (and so is every later one)
            if self.reasoning_summary == "none" or "reasoning summar" not in str(exc).lower():
                raise
            log.warning("%s: reasoning summaries refused (%s); continuing without them", self.model_id, exc)
            self.reasoning_summary = "none"
            response = super().chat(messages, **kwargs)
        if response.provider_state is not None:
            # what this response was made from, so that store mode may chain onto it
            response.provider_state["context"] = fingerprint(messages)
        return response

    def _create(self, client: openai.OpenAI, params: dict[str, Any]) -> Any:
        return client.responses.create(**params)

    def _accumulator(self) -> ResponsesAccumulator:
        return ResponsesAccumulator()

    def _response(
        self,
        acc: ResponsesAccumulator,
        ctx: CallContext,
        partial_usage: Callable[[], Usage],
        attempt: int,
        latency_ms: float,
        ttft: float | None,
    ) -> ChatResponse:
        if acc.status == "failed":
            error = acc.error or {}
            code = error.get("code") or "error"
            message = error.get("message") or "no reason given"
            raise BadResponseError(
                f"{ctx.label} failed (response.failed, {code}): {message}",
                usage=partial_usage(),
                attempts=attempt,
            )
        if acc.status == "incomplete":
            reason = acc.incomplete_reason or "unknown reason"
            hint = (
                "raise the output cap or ask for less"
                if reason == "max_output_tokens"
                else "the provider stopped it"
            )
            raise ResponseIncompleteError(
                f"{ctx.label} stopped before finishing (response.incomplete: {reason}); {hint}",
                usage=partial_usage(),
                attempts=attempt,
            )
        if acc.status is None:
            what = "no events" if acc.chunks == 0 else f"{acc.chunks} events"
            detail = f": {acc.error.get('message')}" if acc.error else ""
            raise BadResponseError(
                f"{ctx.label} at {ctx.base_url} ended the stream without response.completed "
                f"({what}){detail}",
                usage=partial_usage(),
                attempts=attempt,
            )
        return ChatResponse(
            text=acc.text,
            tool_calls=acc.tool_calls(),
            usage=partial_usage(),  # the report, unless nonsense or below what was seen
            finish_reason=acc.finish_reason,
            model=acc.model or self.model,
            latency_ms=latency_ms,
            ttft_ms=ttft,
            raw_usage=acc.usage,
            attempts=attempt,
            reasoning_summary=acc.summary,
            provider_state=output_state(acc.response_id, acc.items, stored=self.store),
        )
