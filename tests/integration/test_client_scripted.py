"""The production client through the real openai SDK against the scripted model.

Every test runs twice: over the in-process httpx transport and over a real HTTP server
on 127.0.0.1.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.llm.client import OpenAICompatibleModel, Timeouts
from mira_jupyter.llm.types import (
    AuthError,
    BadResponseError,
    EndpointUnreachableError,
    MissingKeyError,
    ModelCallCancelled,
    ModelError,
    ModelTimeoutError,
    RateLimitError,
    UnknownModelError,
)
from mira_jupyter.testing import Script, ScriptedServer, scripted_http_client

SECRET = "sk-proj-TESTKEYdo-not-leak-0123456789abcdefXYZ9"
KEY_ENV = "MIRA_TEST_API_KEY"
# Wall-clock bounds here only catch a hang: each is far below the stall or wait it guards
# against and far above what a loaded machine needs. The real latencies are measured by
# benchmarks/cancel_latency.py, never asserted.
HANG_SECONDS = 30.0

ModelFactory = Callable[..., OpenAICompatibleModel]


@pytest.fixture(params=["transport", "server"])
def make_model(request, monkeypatch) -> Iterator[ModelFactory]:
    """Build a real OpenAICompatibleModel talking to a Script through the openai SDK."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    servers: list[ScriptedServer] = []
    clients = []

    def factory(
        script: Script,
        model: str = "gpt-5",
        *,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
        base_url: str | None = None,
    ) -> OpenAICompatibleModel:
        http_client = None
        if base_url is None and request.param == "transport":
            http_client = scripted_http_client(script)
            clients.append(http_client)
            base_url = "http://scripted.invalid/v1"
        elif base_url is None:
            server = ScriptedServer(script).start()
            servers.append(server)
            base_url = server.base_url
        return OpenAICompatibleModel(
            "openai",
            model,
            base_url=base_url,
            key_env=KEY_ENV,
            key_required=True,
            max_tokens_param="max_completion_tokens",
            http_client=http_client,
            timeouts=Timeouts(connect=2.0, read=read_timeout),
            max_attempts=max_attempts,
            backoff_base=0.01,
            backoff_max=0.05,
        )

    factory.backend = request.param  # type: ignore[attr-defined]
    yield factory
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


USER = [{"role": "user", "content": "Say hello to the notebook."}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": n, "description": n, "parameters": {"type": "object"}},
    }
    for n in ("read_file", "grep_files", "list_files")
]


def assert_no_secret(exc: BaseException) -> None:
    text = f"{exc} {exc!r}"
    assert SECRET not in text
    for start in range(0, len(SECRET) - 5):
        assert SECRET[start : start + 6] not in text, f"key fragment leaked: {text}"
    assert "\n" not in str(exc)
    # the SDK's own text must stay out of printed tracebacks too
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_streaming_text(make_model):
    script = Script(
        {"gpt-5": [{"text": "Hello, notebook! Here is a longer answer.", "chunk_chars": 5}]}
    )
    pieces: list[str] = []
    response = make_model(script).chat(USER, on_text=pieces.append)
    assert response.text == "Hello, notebook! Here is a longer answer."
    assert len(pieces) > 3 and "".join(pieces) == response.text
    assert response.finish_reason == "stop" and response.tool_calls == []
    assert response.usage.source == "reported" and response.usage.output_tokens > 5
    assert response.ttft_ms is not None and 0 <= response.ttft_ms <= response.latency_ms
    assert response.model == "gpt-5" and response.attempts == 1
    sent = script.requests[0]
    assert sent.stream and sent.body["stream_options"] == {"include_usage": True}
    assert sent.has_authorization and "authorization" not in sent.headers
    assert "tools" not in sent.body


def test_parallel_tool_calls_assembled_by_index(make_model):
    calls = [
        {"name": "read_file", "arguments": {"path": "src/loader.py", "max_lines": 400}},
        {"name": "grep_files", "arguments": {"pattern": "def load_\\w+", "glob": "**/*.py"}},
        {"name": "list_files", "arguments": {}},
    ]
    script = Script(
        {"gpt-5": [{"tool_calls": calls, "chunk_chars": 3, "interleave_tool_calls": True}]}
    )
    response = make_model(script).chat(USER, tools=TOOLS)
    assert response.finish_reason == "tool_calls"
    assert [c.name for c in response.tool_calls] == ["read_file", "grep_files", "list_files"]
    assert [c.arguments for c in response.tool_calls] == [c["arguments"] for c in calls]
    assert [c.id for c in response.tool_calls] == [f"call_scripted_{i}" for i in range(3)]
    assert all(c.parse_error is None for c in response.tool_calls)
    assert script.requests[0].tool_names == ["read_file", "grep_files", "list_files"]
    message = response.assistant_message()
    assert (
        message["tool_calls"][1]["function"]["arguments"] == response.tool_calls[1].arguments_json
    )


def test_malformed_tool_json_sets_parse_error(make_model):
    script = Script(
        {
            "gpt-5": [
                {
                    "fault": "malformed_tool_json",
                    "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
                },
                {"tool_calls": [{"name": "read_file", "arguments": "[1, 2]"}]},
            ]
        }
    )
    model = make_model(script)
    broken = model.chat(USER, tools=TOOLS).tool_calls[0]
    assert broken.arguments is None and "not valid JSON" in (broken.parse_error or "")
    assert broken.arguments_json == '{"path": "a.py"'
    not_object = model.chat(USER, tools=TOOLS).tool_calls[0]
    assert not_object.arguments is None and "JSON object" in (not_object.parse_error or "")


def test_unknown_tool_name_is_passed_through_for_the_registry(make_model):
    script = Script({"gpt-5": [{"tool_calls": [{"name": "rm_rf", "arguments": {"path": "/"}}]}]})
    call = make_model(script).chat(USER, tools=TOOLS).tool_calls[0]
    assert call.name == "rm_rf" and call.name not in script.requests[0].tool_names


def test_endless_tool_loop_repeats_forever(make_model):
    loop = {"tool_calls": [{"name": "list_files", "arguments": {}}], "repeat": True}
    script = Script({"gpt-5": [loop]})
    model = make_model(script)
    names = [model.chat(USER, tools=TOOLS).tool_calls[0].name for _ in range(6)]
    assert names == ["list_files"] * 6 and script.remaining("gpt-5") == 1


def test_reasoning_effort_sent_only_when_supported(make_model):
    script = Script(
        {
            "gpt-5": [{"text": "a", "expect": {"reasoning_effort": "low"}}],
            "deepseek-chat": [{"text": "b", "expect": {"reasoning_effort": None}}],
        }
    )
    make_model(script, "gpt-5").chat(USER, reasoning_effort="quick")
    make_model(script, "deepseek-chat").chat(USER, reasoning_effort="high")
    script.assert_clean()
    assert [r.reasoning_effort for r in script.requests] == ["low", None]
    assert "reasoning_effort" not in script.requests[1].body


def test_expect_mismatches_are_recorded(make_model):
    script = Script(
        {"gpt-5": [{"text": "x", "expect": {"reasoning_effort": "high", "tools": ["read_file"]}}]}
    )
    make_model(script).chat(USER, reasoning_effort="low")
    assert len(script.mismatches) == 2
    with pytest.raises(AssertionError, match="reasoning_effort='high'"):
        script.assert_clean()


def test_max_tokens_capped_and_named_for_openai(make_model):
    script = Script({"gpt-5": [{"text": "x", "expect": {"max_tokens": 128000}}]})
    make_model(script).chat(USER, max_tokens=10**6)
    script.assert_clean()
    assert "max_completion_tokens" in script.requests[0].body


def test_openai_usage_shape(make_model):
    script = Script(
        {
            "gpt-5": [
                {
                    "text": "ok",
                    "usage": {"input": 5000, "cached": 4096, "output": 700, "reasoning": 512},
                }
            ]
        }
    )
    response = make_model(script).chat(USER)
    usage = response.usage
    assert (usage.input_tokens, usage.cached_input_tokens) == (5000, 4096)
    assert (usage.output_tokens, usage.reasoning_tokens) == (700, 512)
    assert response.raw_usage["prompt_tokens_details"]["cached_tokens"] == 4096


def test_deepseek_usage_shape(make_model):
    script = Script({"deepseek-chat": [{"text": "ok", "cached_tokens": 6}]})
    response = make_model(script, "deepseek-chat").chat([{"role": "user", "content": "word " * 40}])
    raw = response.raw_usage
    assert raw["prompt_cache_hit_tokens"] == 6
    assert raw["prompt_cache_hit_tokens"] + raw["prompt_cache_miss_tokens"] == raw["prompt_tokens"]
    assert response.usage.cached_input_tokens == 6
    assert response.usage.input_tokens == raw["prompt_tokens"]


def test_missing_usage_chunk_is_estimated(make_model):
    script = Script({"gpt-5": [{"text": "An answer of a few tokens.", "usage_style": "none"}]})
    response = make_model(script).chat(USER)
    assert response.raw_usage is None
    assert response.usage.source == "estimated"
    assert response.usage.input_tokens > 5 and response.usage.output_tokens >= 5


def test_retry_after_seconds_is_honoured(make_model):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 1}, "after the wait"]})
    response = make_model(script).chat(USER)
    assert response.text == "after the wait" and response.attempts == 2
    first, second = script.requests
    assert second.received_at - first.received_at >= 0.95


def test_retry_after_http_date_is_honoured(make_model):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": "http-date:+2"}, "ok"]})
    response = make_model(script).chat(USER)
    assert response.attempts == 2
    first, second = script.requests
    # an HTTP-date has 1 s resolution: "now + 2 s" truncated is at least 1 s away
    assert second.received_at - first.received_at >= 0.9


def test_rate_limit_after_all_attempts(make_model):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 0, "repeat": True}]})
    with pytest.raises(RateLimitError) as info:
        make_model(script, max_attempts=3).chat(USER)
    assert info.value.attempts == 3 and len(script.requests) == 3
    assert "429" in str(info.value)
    assert_no_secret(info.value)


def test_server_error_is_retried_then_succeeds(make_model):
    script = Script(
        {"gpt-5": [{"fault": "server_error"}, {"fault": "status", "status": 503}, "fine"]}
    )
    response = make_model(script).chat(USER)
    assert response.text == "fine" and response.attempts == 3


def test_server_error_persisting(make_model):
    script = Script({"gpt-5": [{"fault": "server_error", "repeat": True}]})
    with pytest.raises(BadResponseError, match="HTTP 500") as info:
        make_model(script, max_attempts=2).chat(USER)
    assert info.value.attempts == 2
    assert_no_secret(info.value)


def test_auth_error_never_echoes_the_key(make_model, caplog):
    script = Script({"gpt-5": [{"fault": "status", "status": 401}]})
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as info:
        make_model(script).chat(USER)
    assert "MIRA_TEST_API_KEY" in str(info.value) and "401" in str(info.value)
    assert len(script.requests) == 1  # not retried
    assert_no_secret(info.value)
    assert SECRET not in caplog.text and SECRET[-4:] not in caplog.text


def test_bad_request_message_is_redacted(make_model):
    message = f"Context too long for key {SECRET[:10]}***{SECRET[-4:]}"
    script = Script({"gpt-5": [{"fault": "status", "status": 400, "error_message": message}]})
    with pytest.raises(BadResponseError, match="Context too long") as info:
        make_model(script).chat(USER)
    assert_no_secret(info.value)


def test_unknown_model(make_model):
    script = Script({"gpt-5": ["hi"]})
    with pytest.raises(UnknownModelError, match="gpt-nope") as info:
        make_model(script, "gpt-nope").chat(USER)
    assert "HTTP 404" in str(info.value)
    assert_no_secret(info.value)


def test_exhausted_script_is_a_clear_error(make_model):
    script = Script({"gpt-5": ["only one"]})
    model = make_model(script)
    model.chat(USER)
    with pytest.raises(BadResponseError, match="no turns left"):
        model.chat(USER)
    assert script.mismatches and "no scripted turns left" in script.mismatches[0]


def test_timeout_before_headers(make_model):
    script = Script(
        {"gpt-5": [{"fault": "stall", "stall_seconds": 120, "stall_before_headers": True}]}
    )
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError, match="timed out before answering") as info:
        make_model(script, read_timeout=0.3).chat(USER)
    # only catches a hang (the stall is 120 s): benchmarks/cancel_latency.py has the figure
    assert time.monotonic() - started < HANG_SECONDS
    assert_no_secret(info.value)


def test_timeout_mid_stream_keeps_partial_usage(make_model):
    script = Script(
        {
            "gpt-5": [
                {
                    "text": "partial answer that stalls",
                    "fault": "stall",
                    "stall_seconds": 5,
                    "after_chunks": 3,
                }
            ]
        }
    )
    seen: list[str] = []
    with pytest.raises(ModelTimeoutError, match="mid-stream") as info:
        make_model(script, read_timeout=0.3).chat(USER, on_text=seen.append)
    assert seen
    assert info.value.usage.source == "estimated" and info.value.usage.output_tokens > 0


def test_stream_cut_midway(make_model):
    script = Script(
        {
            "gpt-5": [
                {"text": "This answer will be cut off halfway.", "fault": "cut", "after_chunks": 3}
            ]
        }
    )
    seen: list[str] = []
    with pytest.raises(BadResponseError, match="cut off") as info:
        make_model(script).chat(USER, on_text=seen.append)
    assert "".join(seen) and len(script.requests) == 1  # text was shown: no retry
    assert info.value.usage.source == "estimated"
    assert info.value.usage.input_tokens > 0 and info.value.usage.output_tokens > 0
    assert_no_secret(info.value)


def test_stream_cut_before_output_is_retried(make_model):
    script = Script({"gpt-5": [{"text": "lost", "fault": "cut", "after_chunks": 0}, "second try"]})
    response = make_model(script).chat(USER)
    assert response.text == "second try" and response.attempts == 2


@pytest.mark.parametrize("fault", ["garbage", "no_choices"])
def test_garbage_bodies(make_model, fault):
    script = Script({"gpt-5": [{"text": "x", "fault": fault}]})
    with pytest.raises(BadResponseError) as info:
        make_model(script).chat(USER)
    assert isinstance(info.value, ModelError) and "\n" not in str(info.value)
    assert_no_secret(info.value)


def test_connection_refused_names_the_base_url(make_model):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    base_url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(EndpointUnreachableError) as info:
        make_model(Script(), base_url=base_url, max_attempts=2).chat(USER)
    assert base_url in str(info.value) and "refused" in str(info.value)
    assert info.value.attempts == 1  # nothing listens: knocking again only delays the line
    assert_no_secret(info.value)


def _cancel_when(predicate_event: threading.Event, token: CancelToken, delay: float) -> dict:
    stamp: dict[str, float] = {}

    def run() -> None:
        predicate_event.wait(10)
        time.sleep(delay)
        stamp["at"] = time.monotonic()
        token.cancel()

    threading.Thread(target=run, daemon=True).start()
    return stamp


def test_cancel_mid_stream_returns_without_waiting_for_the_stall(make_model):
    script = Script(
        {
            "gpt-5": [
                {
                    "text": "streaming then silence " * 3,
                    "fault": "stall",
                    "stall_seconds": 120,
                    "after_chunks": 3,
                }
            ]
        }
    )
    token, first_text = CancelToken(), threading.Event()
    stamp = _cancel_when(first_text, token, 0.2)
    with pytest.raises(ModelCallCancelled) as info:
        make_model(script, read_timeout=300).chat(
            USER, on_text=lambda _: first_text.set(), cancel=token
        )
    assert time.monotonic() - stamp["at"] < HANG_SECONDS
    usage = info.value.usage
    assert usage.source == "estimated" and usage.input_tokens > 0 and usage.output_tokens > 0


def test_cancel_before_headers_returns_without_waiting_for_the_stall(make_model):
    script = Script(
        {"gpt-5": [{"fault": "stall", "stall_seconds": 120, "stall_before_headers": True}]}
    )
    token, go = CancelToken(), threading.Event()
    go.set()
    stamp = _cancel_when(go, token, 0.3)
    with pytest.raises(ModelCallCancelled):
        make_model(script, read_timeout=300).chat(USER, cancel=token)
    assert time.monotonic() - stamp["at"] < HANG_SECONDS


def _cancel_once(condition: Callable[[], bool], token: CancelToken) -> dict:
    stamp: dict[str, float] = {}

    def run() -> None:
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        stamp["at"] = time.monotonic()
        token.cancel()

    threading.Thread(target=run, daemon=True).start()
    return stamp


def test_cancel_during_retry_backoff(make_model):
    # 55 s: under the client's 60 s max_retry_wait, so it would really wait that long
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 55}, "never reached"]})
    token = CancelToken()
    # cancel once the 429 has been asked for: a fixed delay can fire on a loaded machine
    # before the first request has even been sent
    stamp = _cancel_once(lambda: len(script.requests) == 1, token)
    with pytest.raises(ModelCallCancelled) as info:
        make_model(script).chat(USER, cancel=token)
    assert time.monotonic() - stamp["at"] < HANG_SECONDS
    assert info.value.attempts == 1 and len(script.requests) == 1


def test_already_cancelled_token_sends_nothing(make_model):
    script = Script({"gpt-5": ["x"]})
    token = CancelToken()
    token.cancel()
    with pytest.raises(ModelCallCancelled):
        make_model(script).chat(USER, cancel=token)
    assert script.requests == []


def test_completed_call_with_a_token(make_model):
    script = Script({"gpt-5": ["done"]})
    token = CancelToken()
    assert make_model(script).chat(USER, cancel=token).text == "done"
    token.cancel()  # cancelling after the call finished must not disturb anything


def test_retry_after_longer_than_allowed_fails_at_once(make_model):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 3600}, "too late"]})
    started = time.monotonic()
    with pytest.raises(RateLimitError, match="asked to wait 3600 s") as info:
        make_model(script).chat(USER)
    assert time.monotonic() - started < HANG_SECONDS and info.value.attempts == 1
    assert len(script.requests) == 1


def test_reasoning_content_is_not_answer_text(make_model):
    script = Script(
        {"deepseek-reasoner": [{"reasoning_text": "Let me think about rows.", "text": "42 rows."}]}
    )
    shown: list[str] = []
    response = make_model(script, "deepseek-reasoner").chat(USER, on_text=shown.append)
    assert response.text == "42 rows." and "".join(shown) == "42 rows."
    assert response.usage.reasoning_tokens > 0
    assert response.usage.output_tokens > response.usage.reasoning_tokens
    assert "prompt_cache_hit_tokens" in response.raw_usage


@pytest.mark.parametrize("ending", ["\n", "\r\n", "  \t"])
def test_a_key_read_with_its_line_end_is_sent_without_it(make_model, monkeypatch, ending):
    """r10c F2: open('key.txt').read() ends in a newline; it was reported as 'connection failed'."""
    monkeypatch.setenv(KEY_ENV, SECRET + ending)
    script = Script({"gpt-5": ["hello"]})
    response = make_model(script).chat(USER)
    assert response.text == "hello" and script.requests[0].has_authorization


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (SECRET[:10] + "\u2019" + SECRET[10:], "non-ASCII character (U+2019) at position 11"),
        (SECRET[:5] + "\u00e9" + SECRET[5:], "non-ASCII character (U+00E9) at position 6"),
        (SECRET[:8] + "\n" + SECRET[8:], "line break at position 9"),
        (SECRET[:8] + "\x1b" + SECRET[8:], "control character at position 9"),
        (SECRET[:8] + " " + SECRET[8:], "space at position 9"),
    ],
)
def test_a_key_no_header_can_carry_is_one_line_naming_where_never_what(make_model, monkeypatch, key, words):
    """r10c F2: a pasted typographic quote was 'internal error: UnicodeEncodeError' + a traceback."""
    monkeypatch.setenv(KEY_ENV, key)
    script = Script({"gpt-5": ["never"]})
    with pytest.raises(MissingKeyError) as info:
        make_model(script).chat(USER)
    message = str(info.value)
    assert words in message and KEY_ENV in message and "\n" not in message
    assert script.requests == [], "nothing was sent"
    assert_no_secret(info.value)


def test_a_key_of_spaces_only_is_no_key(make_model, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "   ")
    with pytest.raises(MissingKeyError, match=f"{KEY_ENV} is not set"):
        make_model(Script({"gpt-5": ["never"]})).chat(USER)
