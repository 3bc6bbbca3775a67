"""`OpenAICompatibleModel`: the ChatModel implementation over the official openai SDK.

Retries are ours, not the SDK's (``max_retries=0``), so that a backoff sleep wakes on
cancel and the attempt count is known. Cancellation must unblock a thread stuck in a
streaming read: closing an httpx response from another thread does *not* wake a blocked
``recv()``; shutting the socket down does. So on cancel the socket behind the response
(``response.extensions["network_stream"]``) is shut down, and the response closed when
there is no socket (in-process transports). The wait for response headers runs on a
helper thread, so a cancel before the first byte returns at once as well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core.cancel import CancelToken
from ..core.events import Usage
from ._names import redact_url
from .assemble import MalformedChunk, StreamAccumulator
from .capabilities import ModelCapabilities, capabilities_for
from .errors import (
    CallContext,
    Retryable,
    key_defect,
    malformed_key_error,
    map_exception,
    missing_key_error,
)
from .types import (
    RETRY_GATE,
    BadResponseError,
    ChatResponse,
    Message,
    ModelCallCancelled,
    ModelError,
    RetryRefused,
    ToolChoice,
    chat_tool_choice,
    without_provider_state,
)
from .usage import estimate_usage, resolve_usage

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx
    import openai


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, and between two received bytes."""

    connect: float = 10.0
    read: float = 300.0
    write: float = 30.0
    pool: float = 10.0


class _CallState:
    """Links one in-flight request to the cancel callback that must abort it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.aborted = False
        self.stream: Any = None
        self.result: Any = None
        self.error: BaseException | None = None

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            stream = self.stream
        self.done.set()
        if stream is not None:
            _force_close(stream.response)

    def adopt(self, stream: Any) -> bool:
        """Hand over the opened stream; False (and closed) if the call was aborted."""
        with self.lock:
            if not self.aborted:
                self.stream = stream
                return True
        _force_close(stream.response)
        return False


def _force_close(response: Any) -> None:
    network_stream = response.extensions.get("network_stream")
    sock = network_stream.get_extra_info("socket") if network_stream is not None else None
    if sock is not None:
        # wakes the reader at once; it then closes the response itself
        try:
            sock.shutdown(socket.SHUT_RDWR)
            return
        except OSError:
            pass
    response.close()


class OpenAICompatibleModel:
    """A ChatModel over any OpenAI-compatible Chat Completions endpoint."""

    def __init__(
        self,
        provider: str,
        model: str,
        *,
        base_url: str,
        key_env: str | None = None,
        key_required: bool = False,
        max_tokens_param: str = "max_tokens",
        http_client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        max_retry_wait: float = 60.0,
        capabilities: ModelCapabilities | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.base_url = base_url
        self.key_env = key_env
        self.key_required = key_required
        self.max_tokens_param = max_tokens_param
        self.timeouts = timeouts or Timeouts()
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_wait = max_retry_wait
        self.capabilities = capabilities or capabilities_for(self.model_id)
        self._http_client = http_client
        self._clients: dict[str, openai.OpenAI] = {}
        self._clients_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel({self.model_id!r}, base_url={redact_url(self.base_url)!r})"

    @property
    def model_id(self) -> str:
        """``provider:model``."""
        return f"{self.provider}:{self.model}"

    def supports_reasoning_effort(self) -> bool:
        """Whether `reasoning_effort` is sent to this model."""
        return self.capabilities.supports_reasoning_effort

    def _api_key(self) -> str | None:
        # surrounding whitespace is never part of a key: a key read with open().read() ends in
        # a newline, and one of spaces only is no key at all
        key = (os.environ.get(self.key_env) or "").strip() if self.key_env else ""
        if not key and self.key_required:
            raise missing_key_error(self.provider, self.key_env or "the API key variable")
        defect = key_defect(key) if key else None
        if defect:  # httpx would fail inside the SDK: an internal error, or "connection failed"
            raise malformed_key_error(self.provider, self.key_env or "the API key variable", defect)
        return key or None

    def preflight(self) -> None:
        """Raise MissingKeyError now if the key is missing (no network traffic)."""
        self._api_key()

    def _client(self, api_key: str | None) -> openai.OpenAI:
        import httpx
        import openai

        # keyed by the key so that setting os.environ[...] later takes effect
        cache_key = api_key or ""
        with self._clients_lock:
            client = self._clients.get(cache_key)
            if client is None:
                t = self.timeouts
                client = openai.OpenAI(
                    # the SDK insists on a key; local servers ignore this placeholder
                    api_key=api_key or "no-key",
                    base_url=self.base_url,
                    max_retries=0,
                    timeout=httpx.Timeout(t.read, connect=t.connect, write=t.write, pool=t.pool),
                    http_client=self._http_client,
                )
                self._clients = {cache_key: client}
            return client

    def _params(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        reasoning_effort: str | None,
        max_tokens: int | None,
        tool_choice: ToolChoice | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            # state another API left on assistant messages is not Chat Completions' business
            "messages": [without_provider_state(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            params["tools"] = tools
            if tool_choice is not None:
                params["tool_choice"] = chat_tool_choice(tool_choice)
        effort = self.capabilities.effort_to_send(reasoning_effort)
        if effort is not None:
            params["reasoning_effort"] = effort
        if max_tokens is not None:
            cap = self.capabilities.max_output_tokens
            params[self.max_tokens_param] = min(max_tokens, cap) if cap else max_tokens
        return params

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after + random.uniform(0, 0.1)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads out parallel retries

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
        """Run one streamed completion, retrying 429/5xx/connection failures with backoff."""
        api_key = self._api_key()
        client = self._client(api_key)
        params = self._params(messages, tools, reasoning_effort, max_tokens, tool_choice)
        ctx = CallContext(
            provider=self.provider,
            model=self.model,
            base_url=redact_url(self.base_url),
            key_env=self.key_env,
            secrets=(api_key,) if api_key else (),
            read_timeout=self.timeouts.read,
            connect_timeout=self.timeouts.connect,
        )
        started = time.monotonic()
        attempt = 0
        # attempts that reached the model before failing may be billed: their estimate adds up
        earlier: Usage | None = None
        while True:
            attempt += 1
            if cancel is not None and cancel.cancelled:
                # nothing was sent for this attempt: it costs nothing
                raise self._cancelled(earlier or Usage(), attempt - 1)
            gate = RETRY_GATE.get()
            if gate is not None and earlier is not None:
                # the attempts so far were billed: another one must fit the budget first
                try:
                    gate(earlier)
                except RetryRefused as refused:
                    raise _with_attempts(refused, attempt - 1, earlier) from None
            try:
                response = self._attempt(
                    client, params, ctx, on_text, cancel, started, attempt, (messages, tools)
                )
            except Retryable as failure:
                error = failure.error
                if _nonzero(error.usage):
                    earlier = _combined(earlier, error.usage)
                delay = self._backoff(attempt, failure.retry_after)
                if delay > self.max_retry_wait:
                    error = type(error)(f"{error} (the server asked to wait {delay:.0f} s)")
                if attempt >= self.max_attempts or delay > self.max_retry_wait:
                    raise _with_attempts(error, attempt, earlier) from None
                log.debug("%s; retrying in %.2f s (attempt %d)", error, delay, attempt + 1)
            except ModelError as exc:
                if earlier is not None:
                    exc.usage = _combined(earlier, exc.usage)
                raise
            else:
                if earlier is not None:
                    response.usage = _combined(earlier, response.usage)
                return response
            if cancel is not None:
                if cancel.wait(delay):
                    raise self._cancelled(earlier or Usage(), attempt)
            else:
                time.sleep(delay)

    def _cancelled(self, usage: Usage, attempts: int) -> ModelCallCancelled:
        return ModelCallCancelled(f"{self.model_id} call cancelled", usage=usage, attempts=attempts)

    def _open(self, client: openai.OpenAI, params: dict[str, Any], state: _CallState) -> Any:
        def run() -> None:
            try:
                stream = self._create(client, params)
            except BaseException as exc:  # handed to the waiting thread
                state.error = exc
            else:
                if state.adopt(stream):
                    state.result = stream
            finally:
                state.done.set()

        threading.Thread(target=run, name="mira-llm-request", daemon=True).start()
        state.done.wait()
        with state.lock:
            aborted, adopted = state.aborted, state.stream
        if aborted:
            if adopted is not None:
                # abort only shut the socket down; release the connection too
                with contextlib.suppress(Exception):
                    adopted.close()
            return None
        if state.error is not None:
            raise state.error
        return state.result

    # -- what an API subclass replaces (see responses.py) --------------------------------

    def _create(self, client: openai.OpenAI, params: dict[str, Any]) -> Any:
        """Open the SDK stream for one attempt."""
        return client.chat.completions.create(**params)

    def _accumulator(self) -> Any:
        """A fresh fold of the stream's items (StreamAccumulator's interface)."""
        return StreamAccumulator()

    def _response(
        self,
        acc: Any,
        ctx: CallContext,
        partial_usage: Callable[[], Usage],
        attempt: int,
        latency_ms: float,
        ttft: float | None,
    ) -> ChatResponse:
        """The ChatResponse of a stream that ended; raises if it is not a usable completion."""
        tool_calls = acc.tool_calls()
        if acc.chunks == 0 or (acc.finish_reason is None and not acc.text and not tool_calls):
            raise BadResponseError(
                f"{ctx.label} at {ctx.base_url} returned no completion (empty or non-SSE body)",
                usage=partial_usage(),
                attempts=attempt,
            )
        return ChatResponse(
            text=acc.text,
            tool_calls=tool_calls,
            usage=partial_usage(),
            finish_reason=acc.finish_reason,
            model=acc.model or self.model,
            latency_ms=latency_ms,
            ttft_ms=ttft,
            raw_usage=acc.usage,
            attempts=attempt,
        )

    def _attempt(
        self,
        client: openai.OpenAI,
        params: dict[str, Any],
        ctx: CallContext,
        on_text: Callable[[str], None] | None,
        cancel: CancelToken | None,
        started: float,
        attempt: int,
        sent: tuple[list[Message], list[dict[str, Any]] | None],
    ) -> ChatResponse:
        messages, tools = sent  # what the call was given, for estimates when usage is missing
        acc = self._accumulator()
        state = _CallState()
        remove = cancel.on_cancel(state.abort) if cancel is not None else (lambda: None)
        attempt_start = time.monotonic()
        ttft: float | None = None
        stream = None

        def partial_usage() -> Usage:
            return resolve_usage(
                acc.usage,
                lambda: estimate_usage(messages, acc.text, acc.other_output_texts(), tools),
            )

        try:
            try:
                if cancel is None:
                    stream = self._create(client, params)
                else:
                    stream = self._open(client, params, state)
                    if stream is None:
                        raise self._cancelled(partial_usage(), attempt) from None
                iterator = iter(stream)
            except ModelCallCancelled:
                raise
            except Exception as exc:
                raise self._map(exc, ctx, acc, state, partial_usage, attempt) from None
            while True:
                try:
                    chunk = next(iterator, None)
                    if chunk is None:
                        break
                    text = acc.add(chunk)
                except Exception as exc:
                    raise self._map(exc, ctx, acc, state, partial_usage, attempt) from None
                if ttft is None and acc.first_token_seen:
                    ttft = (time.monotonic() - attempt_start) * 1000
                if text and on_text is not None:
                    on_text(text)
            if state.aborted:
                raise self._cancelled(partial_usage(), attempt)
        finally:
            remove()
            if stream is not None:
                with contextlib.suppress(Exception):  # the socket may already be shut down
                    stream.close()

        latency = (time.monotonic() - started) * 1000
        return self._response(acc, ctx, partial_usage, attempt, latency, ttft)

    def _map(
        self,
        exc: Exception,
        ctx: CallContext,
        acc: Any,
        state: _CallState,
        partial_usage: Callable[[], Usage],
        attempt: int,
    ) -> BaseException:
        if state.aborted:
            return self._cancelled(partial_usage(), attempt)
        if isinstance(exc, MalformedChunk):
            mapped: ModelError | Retryable | None = BadResponseError(
                f"{ctx.label} sent a malformed stream chunk: {exc}"
            )
        else:
            mapped = map_exception(exc, ctx, received=acc.chunks)
        if mapped is None:
            return exc
        if isinstance(mapped, Retryable):
            # a retry would repeat text already shown: only retry before any output
            if not acc.output_started:
                if acc.chunks or _reached_model(exc):
                    mapped.error.usage = partial_usage()
                return mapped
            mapped = mapped.error
        mapped.after_output = acc.output_started
        # a request refused outright (HTTP error, connection refused) processed nothing and
        # costs nothing; one that reached the model and then broke is estimated and bounded
        usage = partial_usage() if acc.chunks or _reached_model(exc) else None
        return _with_attempts(mapped, attempt, usage)

def _reached_model(exc: BaseException) -> bool:
    """Whether the request was sent and accepted, so the provider may have worked on it."""
    import httpx
    import openai

    if isinstance(exc, openai.APIStatusError):
        return False  # answered with an error status: nothing was generated
    current: BaseException | None = exc
    seen = 0
    while current is not None and seen < 10:
        if isinstance(current, httpx.ConnectError | httpx.ConnectTimeout):
            return False
        if isinstance(current, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _nonzero(usage: Usage) -> bool:
    return bool(usage.input_tokens or usage.output_tokens)


def _combined(earlier: Usage | None, usage: Usage) -> Usage:
    """`usage` plus that of the earlier attempts, each attempt kept in ``attempts``.

    Every attempt that reached the model may be billed: its own usage (and the provider's
    own cost for it, OpenRouter ``usage.cost``) is kept, so that it is priced, budgeted and
    repriced as what it was. ``raw`` stays the last attempt's object.
    """
    if earlier is None:
        return usage
    parts = [*(earlier.attempts or [earlier]), usage]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    reported = [p.provider_cost_usd for p in parts if p.provider_cost_usd is not None]
    return total.model_copy(
        update={
            "raw": usage.raw,
            "provider_cost_usd": sum(reported, Decimal(0)) if reported else None,
            "attempts": [p.model_copy(update={"attempts": None}) for p in parts],
        }
    )


def _with_attempts(error: ModelError, attempts: int, usage: Usage | None = None) -> ModelError:
    error.attempts = attempts
    if usage is not None:
        error.usage = usage
    return error
