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
    fails_every_call,
    is_transient,
    map_exception,
    may_fall_back,
    parse_retry_after,
    redact,
    status_error,
)
from mira_jupyter.llm.types import (
    AuthError,
    BadResponseError,
    ConnectTimeoutError,
    EndpointUnreachableError,
    MissingKeyError,
    ModelTimeoutError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamCutError,
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
    ("cause", "words", "kind"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused", EndpointUnreachableError),
        (socket.gaierror(-2, "Name or service not known"), "could not be resolved", EndpointUnreachableError),
        (httpx.ConnectTimeout("timed out"), "within 10 s", ConnectTimeoutError),
    ],
)
def test_connection_failures_name_the_base_url_and_are_not_retried(cause, words, kind):
    # nothing listens, the name is unknown, or the host did not answer in time: knocking
    # again only makes the user wait longer for the same line
    mapped = map_exception(_connection_error(cause), CTX, received=0)
    assert isinstance(mapped, kind) and not isinstance(mapped, Retryable)
    assert CTX.base_url in str(mapped) and words in str(mapped)
    assert not may_fall_back(mapped)


def test_a_reset_connection_is_retried():
    mapped = map_exception(_connection_error(ConnectionResetError(104, "reset")), CTX, received=0)
    assert isinstance(mapped, Retryable) and mapped.error.transient


def test_read_timeout_is_not_retried():
    mapped = map_exception(httpx.ReadTimeout("timed out", request=REQUEST), CTX, received=4)
    assert isinstance(mapped, ModelTimeoutError) and "mid-stream" in str(mapped)


def test_cut_stream_is_transient_and_retryable_until_output_is_shown():
    cut = httpx.RemoteProtocolError("peer closed connection", request=REQUEST)
    assert isinstance(map_exception(cut, CTX, received=0), Retryable)
    mapped = map_exception(cut, CTX, received=5)
    assert isinstance(mapped, Retryable) and isinstance(mapped.error, StreamCutError)
    # the client unwraps it once text was shown; only then may another path redo the work
    error = mapped.error
    assert not may_fall_back(error)
    error.after_output = True
    assert may_fall_back(error)


@pytest.mark.parametrize(
    ("status", "body", "kind", "transient"),
    [
        (400, '{"error": {"message": "context length exceeded"}}', RequestRejectedError, False),
        (401, "{}", AuthError, False),
        (403, "{}", PermissionDeniedError, False),
        (404, "{}", UnknownModelError, False),
        (422, "{}", RequestRejectedError, False),
        (429, '{"error": {"code": "insufficient_quota", "message": "quota"}}', QuotaExceededError, False),
        (429, "{}", RateLimitError, True),
        (408, "{}", ServerError, True),
        (500, "{}", ServerError, True),
        (503, "{}", ServerError, True),
        (529, "{}", ServerError, True),
        (501, "{}", RequestRejectedError, False),
        (409, "{}", RequestRejectedError, False),
    ],
)
def test_failure_classes(status, body, kind, transient):
    mapped = status_error(status, _response(status, body), CTX)
    error = mapped.error if isinstance(mapped, Retryable) else mapped
    assert type(error) is kind and is_transient(error) is transient
    assert isinstance(mapped, Retryable) is transient  # only transient failures are retried
    assert not fails_every_call(error) or not transient
    assert not may_fall_back(error), "an HTTP status comes before any output: retried, not redone"


def test_failures_that_no_call_can_get_past():
    assert fails_every_call(MissingKeyError("no key"))
    assert fails_every_call(status_error(401, _response(401), CTX))
    assert fails_every_call(status_error(403, _response(403), CTX))
    assert fails_every_call(status_error(404, _response(404), CTX))
    assert not fails_every_call(status_error(400, _response(400), CTX))  # this request only
    assert fails_every_call(ModelTimeoutError("silent for the whole timeout"))
    late = ModelTimeoutError("stalled mid-answer")
    late.after_output = True
    assert not fails_every_call(late)


def test_a_timeout_never_falls_back_even_after_output():
    error = map_exception(httpx.ReadTimeout("timed out", request=REQUEST), CTX, received=4)
    error.after_output = True
    assert is_transient(error) and not may_fall_back(error)


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
