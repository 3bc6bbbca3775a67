"""Map SDK/transport failures to one-line ModelErrors that never contain an API key.

The failure classes, shared by every ChatModel implementation and the engine:

- permanent (``ModelError.transient`` False): no key, a refused key, no permission, 400,
  404, an unknown model, a refused connection. Never retried, never sent down another
  path: the same request fails the same way.
- transient: 429 (not an exhausted quota), 5xx, timeouts, cut streams. A fast failure
  (429, 5xx, a drop before the first byte) is retried inside the call (`Retryable`). A
  timeout is not: the user has already waited the full ``request_timeout``, and a hung
  server hangs again. See `may_fall_back` for the one failure worth another path.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .types import (
    AuthError,
    BadResponseError,
    ConnectTimeoutError,
    EndpointUnreachableError,
    MissingKeyError,
    ModelError,
    ModelTimeoutError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamCutError,
    UnknownModelError,
)

_KEY_LIKE = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*.]{3,}|Bearer\s+\S+", re.IGNORECASE)
_MASKED = re.compile(r"[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*")
# 408 is the server's own timeout; 501 (not implemented) will not change on a retry
_SERVER_FAILURES = {408} | set(range(500, 600)) - {501}


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` on one line with keys, masked key quotes and key fragments removed."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "[redacted]")
        # providers quote prefixes/suffixes of the key ("sk-ab***wxyz"): drop any 6-char window
        for start in range(0, max(len(secret) - 5, 0)):
            window = secret[start : start + 6]
            if window in text:
                text = text.replace(window, "[redacted]")
    text = _KEY_LIKE.sub("[redacted]", text)
    text = _MASKED.sub("[redacted]", text)
    text = re.sub(r"(?:\[redacted\])+", "[redacted]", text)
    text = " ".join(text.split())
    return text if len(text) <= 240 else text[:237] + "..."


def missing_key_error(provider: str, env_var: str) -> MissingKeyError:
    """The error for an unset API key, with a way to set it that does not echo it."""
    return MissingKeyError(
        f"{env_var} is not set, so the {provider} provider cannot be used. Set it without "
        f'echoing it: import os, getpass; os.environ["{env_var}"] = getpass.getpass()'
    )


def key_defect(key: str) -> str | None:
    """What makes `key` unusable in an HTTP header (a control or non-ASCII character), or None.

    Says where, never what: the message names the character's kind and position only.
    """
    for position, char in enumerate(key, start=1):
        if char in "\r\n":
            return f"a line break at position {position} (was it read from a file with its line end?)"
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"a control character at position {position}"
        if ord(char) > 0x7E:
            return (
                f"a non-ASCII character (U+{ord(char):04X}) at position {position} "
                "(a typographic quote or a letter pasted with it?)"
            )
        if char == " ":
            return f"a space at position {position}"
    return None


def malformed_key_error(provider: str, env_var: str, defect: str) -> MissingKeyError:
    """The error for a key no HTTP header can carry: where the bad character is, not the key."""
    return MissingKeyError(
        f"{env_var} holds {defect}, so it cannot be sent and the {provider} provider cannot be "
        f'used. Set it again without echoing it: import os, getpass; os.environ["{env_var}"] = '
        "getpass.getpass()"
    )


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP-date)."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


@dataclass
class CallContext:
    """What an error message may mention about the call (never the key itself)."""

    provider: str
    model: str
    base_url: str  # already stripped of credentials
    key_env: str | None
    secrets: tuple[str, ...]
    read_timeout: float
    connect_timeout: float = 10.0

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass
class Retryable(Exception):
    """A failure worth retrying; `error` is what to raise if the attempts run out."""

    error: ModelError
    retry_after: float | None = None


def is_transient(error: BaseException) -> bool:
    """True for 429, 5xx, timeouts and cut streams: a later identical request may succeed."""
    return isinstance(error, ModelError) and error.transient


def fails_every_call(error: BaseException) -> bool:
    """True when every later call to this model fails the same way, whatever is asked:
    no key, a refused key, no permission, an unknown model, an exhausted quota, nothing
    listening at the base URL, or a server that stayed silent for the whole timeout (a
    hung server hangs again: each retry would cost the user another full wait). Such an
    error ends the operation; it is not a tool result for the orchestrator to work around."""
    if isinstance(error, ModelTimeoutError):
        return not getattr(error, "after_output", False)
    if isinstance(error, EndpointUnreachableError):
        return not error.transient
    return isinstance(error, MissingKeyError | AuthError | UnknownModelError | QuotaExceededError)


def may_fall_back(error: BaseException) -> bool:
    """Whether a failed call is worth redoing on another path (simple mode → planned).

    Another path asks the same model on the same server. A permanent failure repeats; a
    fast transient one (429, 5xx, a drop before the first byte) was already retried inside
    the call; a timeout already cost the user a full wait, and a hung server hangs again.
    What is left is a stream that broke after the answer had begun, which the call could
    not retry without repeating text the user had already seen.
    """
    return (
        is_transient(error)
        and getattr(error, "after_output", False)
        and not isinstance(error, ModelTimeoutError)
    )


def _server_message(response: Any, secrets: tuple[str, ...]) -> tuple[str, str]:
    """(code, message) from an OpenAI-style error body, redacted; empty when absent."""
    try:
        body = json.loads(response.text)
    except Exception:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or error.get("type") or "")
        return redact(code, secrets), redact(str(error.get("message") or ""), secrets)
    if isinstance(error, str):
        return "", redact(error, secrets)
    return "", ""


def _in_chain(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _connection_reason(exc: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "refused" in str(current).lower():
            return "connection refused (is the server running?)"
        if (
            isinstance(current, socket.gaierror)
            or "name or service not known" in str(current).lower()
            or "nodename nor servname" in str(current).lower()
        ):
            return "the host name could not be resolved (check the URL and your network)"
        current = current.__cause__ or current.__context__
    return "connection failed"


def status_error(status: int, response: Any, ctx: CallContext) -> ModelError | Retryable:
    """Map an HTTP error status to a ModelError (or a Retryable wrapping one)."""
    code, message = _server_message(response, ctx.secrets)
    detail = f": {message}" if message else ""
    headers = getattr(response, "headers", None)
    if status in (401, 403):
        # the server's text is dropped on purpose: OpenAI quotes part of the key in it
        fix = f"check {ctx.key_env}" if ctx.key_env else "check the endpoint's credentials"
        if status == 403:
            return PermissionDeniedError(
                f"{ctx.label} at {ctx.base_url} refused access (HTTP 403): the credentials "
                f"may not use this model or endpoint; {fix}"
            )
        return AuthError(
            f"{ctx.label} at {ctx.base_url} refused the credentials (HTTP {status}); {fix}"
        )
    if status == 404:
        return UnknownModelError(
            f"model {ctx.model!r} was not found at {ctx.base_url} (HTTP 404); "
            f"check the model name in {ctx.label!r} and the base URL"
        )
    if status == 429:
        if code == "insufficient_quota":
            return QuotaExceededError(f"{ctx.label}: quota exhausted (HTTP 429){detail}; check billing")
        return Retryable(
            RateLimitError(f"{ctx.label} is rate limited (HTTP 429){detail}; wait and try again"),
            parse_retry_after(headers),
        )
    if status in _SERVER_FAILURES:
        return Retryable(
            ServerError(f"{ctx.label} at {ctx.base_url} failed with HTTP {status}{detail}"),
            parse_retry_after(headers),
        )
    return RequestRejectedError(f"{ctx.label} rejected the request (HTTP {status}){detail}")


def map_exception(
    exc: BaseException, ctx: CallContext, *, received: int
) -> ModelError | Retryable | None:
    """Classify `exc`; `received` is how many stream chunks arrived. None: not ours to map."""
    import httpx
    import openai
    import pydantic

    if isinstance(exc, openai.APIStatusError):
        return status_error(exc.status_code, exc.response, ctx)
    if _in_chain(exc, httpx.ConnectTimeout):
        # not retried: a host that did not answer in time will not answer the next time either
        return ConnectTimeoutError(
            f"cannot reach {ctx.base_url} for {ctx.label}: no answer to the connection "
            f"attempt within {ctx.connect_timeout:g} s (check the URL and your network)"
        )
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        when = "before answering" if received == 0 else "mid-stream"
        return ModelTimeoutError(
            f"{ctx.label} at {ctx.base_url} timed out {when} (no data for "
            f"{ctx.read_timeout:g} s); raise request_timeout or try again"
        )
    if isinstance(exc, openai.APIConnectionError):
        reason = _connection_reason(exc)
        error = EndpointUnreachableError(f"cannot reach {ctx.base_url} for {ctx.label}: {reason}")
        if reason == "connection failed":  # reset, or a pooled connection the server closed
            error.transient = True
            return Retryable(error)
        return error  # refused or unresolvable: nothing listens there, so do not knock again
    if isinstance(exc, httpx.TransportError):
        if received == 0:
            error = EndpointUnreachableError(
                f"{ctx.base_url} closed the connection before {ctx.label} answered"
            )
            error.transient = True
            return Retryable(error)
        return Retryable(
            StreamCutError(
                f"the stream from {ctx.label} was cut off before it finished "
                f"({received} chunks received); try again"
            )
        )
    if isinstance(exc, json.JSONDecodeError | pydantic.ValidationError | UnicodeDecodeError):
        return BadResponseError(
            f"{ctx.label} at {ctx.base_url} sent a response that is not valid "
            "Chat Completions JSON (is the base URL an OpenAI-compatible endpoint?)"
        )
    if isinstance(exc, openai.APIError):
        message = redact(str(getattr(exc, "message", "") or ""), ctx.secrets)
        return BadResponseError(f"{ctx.label} reported an error mid-stream: {message or 'unknown'}")
    return None
