"""The ChatModel interface: the only way the engine reaches a model."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.cancel import CancelToken
from ..core.errors import MiraError
from ..core.events import Usage

Message = dict[str, Any]  # an OpenAI Chat Completions message
# "auto", "none", "required", or the name of the one tool the model must call
ToolChoice = str

_CHOICE_MODES = ("auto", "none", "required")


def chat_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    """`choice` as Chat Completions' ``tool_choice``."""
    if choice in _CHOICE_MODES:
        return choice
    return {"type": "function", "function": {"name": choice}}


def responses_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    """`choice` as the Responses API's ``tool_choice`` (a flat function shape)."""
    if choice in _CHOICE_MODES:
        return choice
    return {"type": "function", "name": choice}

# An assistant message may carry what its API needs to continue from it (the Responses
# API's output items and response id) under this key; other APIs drop it before sending.
PROVIDER_STATE_KEY = "provider_state"


def without_provider_state(message: Message) -> Message:
    """`message` without the provider state key (the same object when it has none)."""
    if PROVIDER_STATE_KEY not in message:
        return message
    return {k: v for k, v in message.items() if k != PROVIDER_STATE_KEY}


@dataclass
class ToolCall:
    """One tool call requested by the model, assembled from streamed deltas."""

    id: str
    name: str
    arguments_json: str
    # parsed arguments, or None with `parse_error` set when the model sent malformed JSON
    arguments: dict[str, Any] | None = None
    parse_error: str | None = None


@dataclass
class ChatResponse:
    """The outcome of one chat completion."""

    text: str
    tool_calls: list[ToolCall]
    usage: Usage
    finish_reason: str | None
    model: str  # the model id the server reported
    latency_ms: float
    ttft_ms: float | None = None
    raw_usage: dict[str, Any] | None = None
    attempts: int = 1
    # a summary of the model's hidden reasoning, for the log and the "thinking" line; never
    # part of `text`
    reasoning_summary: str = ""
    # opaque state for the next call of the same API (kept on the assistant message)
    provider_state: dict[str, Any] | None = None

    def assistant_message(self) -> Message:
        """The assistant message to append to the conversation (with its tool calls)."""
        message: Message = {"role": "assistant", "content": self.text or None}
        if self.provider_state is not None:
            message[PROVIDER_STATE_KEY] = self.provider_state
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json},
                }
                for call in self.tool_calls
            ]
        return message


class ChatModel(Protocol):
    """A chat model reached over an OpenAI-compatible endpoint."""

    provider: str
    model: str

    @property
    def model_id(self) -> str:
        """``provider:model``."""
        ...

    def supports_reasoning_effort(self) -> bool:
        """Whether `reasoning_effort` is sent to this model."""
        ...

    def chat(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        reasoning_effort: str | None = None,
        on_text: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
        max_tokens: int | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> ChatResponse:
        """Run one streamed completion; `on_text` receives text deltas as they arrive.

        `tool_choice` steers the call without changing the tool list (so the prompt prefix
        a provider caches stays the same): ``"auto"``, ``"none"``, ``"required"`` or the
        name of the one tool the model must call.

        Raises a ModelError subclass (one clear line in ``str(exc)``) on failure, and
        ModelCallCancelled (carrying the partial usage) when `cancel` fires mid-stream.
        """
        ...


class ModelError(MiraError):
    """A model call failed; ``str(exc)`` is one line the user can act on.

    `transient` is the failure class: True when a later identical request may succeed
    (429, 5xx, timeouts, cut streams), False when it cannot (bad key, no key, no
    permission, 400, 404, unknown model). `after_output` is set when the failure came
    after the model had started answering, so the call could not be retried.
    """

    kind = "error"
    transient = False

    def __init__(self, message: str, *, usage: Usage | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        # default: nothing was processed, so nothing is billed (not an "estimate" of zero)
        self.usage = usage or Usage()
        self.attempts = attempts
        self.after_output = False


class MissingKeyError(ModelError):
    kind = "missing_key"


class UnknownModelError(ModelError):
    kind = "unknown_model"


class EndpointUnreachableError(ModelError):
    """Connection refused, host unknown: nothing answers at the base URL."""

    kind = "unreachable"


class ModelTimeoutError(ModelError):
    """No byte for the read timeout (a hung server), or no connection in time."""

    kind = "timeout"
    transient = True


class ConnectTimeoutError(EndpointUnreachableError, ModelTimeoutError):
    """No connection within the connect timeout (a filtered port, a host that is down)."""

    kind = "connect_timeout"
    transient = True


class AuthError(ModelError):
    kind = "auth"


class PermissionDeniedError(AuthError):
    """HTTP 403: the key is valid but may not use this model or endpoint."""

    kind = "permission"


class RateLimitError(ModelError):
    kind = "rate_limit"
    transient = True


class QuotaExceededError(RateLimitError):
    """HTTP 429 with ``insufficient_quota``: waiting does not help, billing does."""

    kind = "quota"
    transient = False


class BadResponseError(ModelError):
    """The server answered with something that is not a usable completion."""

    kind = "bad_response"


class RequestRejectedError(BadResponseError):
    """HTTP 400/422 and other 4xx: the request itself is wrong (e.g. the context is too long)."""

    kind = "bad_request"


class ServerError(BadResponseError):
    """HTTP 5xx (or 408): the server failed this time."""

    kind = "server_error"
    transient = True


class StreamCutError(BadResponseError):
    """The connection dropped before the stream finished."""

    kind = "stream_cut"
    transient = True


class ModelCallCancelled(ModelError):
    """The stream was closed because the operation was cancelled; carries partial usage."""

    kind = "cancelled"


class RetryRefused(ModelError):
    """A retry was not sent: the attempts so far were billed and no room is left for one more
    (raised by a `RETRY_GATE`; carries the usage of the attempts that were sent)."""

    kind = "retry_refused"


# Called by a model before it resends a request whose earlier attempts may have been billed,
# with their usage so far; it raises RetryRefused to stop. A context variable rather than a
# chat() argument, so that every ChatModel keeps the one signature (the engine sets it around
# a call when a budget applies; a model that never retries never reads it).
RETRY_GATE: ContextVar[Callable[[Usage], None] | None] = ContextVar("mira_retry_gate", default=None)


@dataclass
class ToolSchema:
    """A function tool as the model sees it (Chat Completions nested shape)."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        """The ``{"type": "function", "function": {...}}`` form."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }
