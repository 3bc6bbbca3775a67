"""Error classification, Retry-After parsing and key redaction, without any server."""

from __future__ import annotations

import email.utils
import socket

import httpx
import openai
import pytest

from mira_jupyter.llm.errors import (
    CallContext,
    Retryable,
    map_exception,
    parse_retry_after,
    redact,
    status_error,
)
from mira_jupyter.llm.types import (
    AuthError,
    BadResponseError,
    EndpointUnreachableError,
    ModelTimeoutError,
    RateLimitError,
    UnknownModelError,
)

KEY = "sk-live-0123456789abcdefABCDEF"
CTX = CallContext("openai", "gpt-5", "https://api.openai.com/v1", "OPENAI_API_KEY", (KEY,), 30.0)
REQUEST = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")


def _response(status: int, body: str = "{}", **headers: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers, request=REQUEST)


def test_retry_after_forms():
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(12, abs=1)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (401, AuthError, False),
        (403, AuthError, False),
        (404, UnknownModelError, False),
        (429, RateLimitError, True),
        (500, BadResponseError, True),
        (502, BadResponseError, True),
        (400, BadResponseError, False),
    ],
)
def test_status_mapping(status, kind, retryable):
    mapped = status_error(status, _response(status, '{"error": {"message": "nope"}}'), CTX)
    error = mapped.error if isinstance(mapped, Retryable) else mapped
    assert isinstance(mapped, Retryable) is retryable
    assert isinstance(error, kind)
    assert "\n" not in str(error)


def test_auth_error_drops_server_text_that_quotes_the_key():
    body = '{"error": {"message": "Incorrect API key provided: sk-li***CDEF", "code": "invalid_api_key"}}'
    error = status_error(401, _response(401, body), CTX)
    assert "sk-li" not in str(error) and "CDEF" not in str(error)
    assert "OPENAI_API_KEY" in str(error)


def test_quota_exhausted_is_not_retried():
    body = '{"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}'
    error = status_error(429, _response(429, body), CTX)
    assert isinstance(error, RateLimitError) and "billing" in str(error)


def test_retryable_carries_retry_after():
    mapped = status_error(429, _response(429, "{}", **{"retry-after": "3"}), CTX)
    assert isinstance(mapped, Retryable) and mapped.retry_after == 3.0


def _connection_error(cause: BaseException) -> openai.APIConnectionError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise openai.APIConnectionError(request=REQUEST) from inner
    except openai.APIConnectionError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (socket.gaierror(-2, "Name or service not known"), "could not be resolved"),
        (httpx.ConnectTimeout("timed out"), "within 10 s"),
    ],
)
def test_connection_failures_name_the_base_url(cause, words):
    mapped = map_exception(_connection_error(cause), CTX, received=0)
    assert isinstance(mapped, Retryable)
    assert isinstance(mapped.error, EndpointUnreachableError)
    assert CTX.base_url in str(mapped.error) and words in str(mapped.error)


def test_read_timeout_is_not_retried():
    mapped = map_exception(httpx.ReadTimeout("timed out", request=REQUEST), CTX, received=4)
    assert isinstance(mapped, ModelTimeoutError) and "mid-stream" in str(mapped)


def test_cut_stream_depends_on_progress():
    cut = httpx.RemoteProtocolError("peer closed connection", request=REQUEST)
    assert isinstance(map_exception(cut, CTX, received=0), Retryable)
    assert isinstance(map_exception(cut, CTX, received=5), BadResponseError)


def test_unrelated_exceptions_are_left_alone():
    assert map_exception(KeyError("bug"), CTX, received=0) is None


def test_stream_error_event_is_redacted():
    error = openai.APIError(f"boom with {KEY}", request=REQUEST, body=None)
    mapped = map_exception(error, CTX, received=2)
    assert isinstance(mapped, BadResponseError) and KEY not in str(mapped)


def test_redact_collapses_lines_and_truncates():
    assert redact("a\n\nb\tc") == "a b c"
    assert len(redact("x" * 1000)) <= 240
    assert redact(f"key={KEY[:12]}", (KEY,)) == "key=[redacted]"
