"""OpenAIResponsesModel through the real openai SDK against the scripted /v1/responses.

Every test runs twice: over the in-process httpx transport and over a real HTTP server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.llm import pricing
from mira_jupyter.llm.client import OpenAICompatibleModel, Timeouts
from mira_jupyter.llm.responses import OpenAIResponsesModel, ResponseIncompleteError
from mira_jupyter.llm.types import BadResponseError, ModelCallCancelled, RateLimitError, ToolSchema
from mira_jupyter.testing import Script, ScriptedServer, scripted_http_client

KEY_ENV = "MIRA_TEST_API_KEY"
USER = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Read a.py"}]
TOOLS = [
    ToolSchema(
        "read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}}
    ).to_openai()
]
USAGE = {"input": 1200, "cached": 1024, "output": 700, "reasoning": 512}


@pytest.fixture(params=["transport", "server"])
def make(request, monkeypatch) -> Iterator[Callable[..., OpenAICompatibleModel]]:
    """Build a Responses (or, with chat=True, a Chat Completions) model on a Script."""
    monkeypatch.setenv(KEY_ENV, "sk-test-key-0123456789")
    servers: list[ScriptedServer] = []

    def factory(script: Script, *, chat: bool = False, model: str = "gpt-5", **kw) -> OpenAICompatibleModel:
        http_client = None
        if request.param == "transport":
            http_client, base_url = scripted_http_client(script), "http://scripted.invalid/v1"
        else:
            server = ScriptedServer(script).start()
            servers.append(server)
            base_url = server.base_url
        common = dict(
            base_url=base_url, key_env=KEY_ENV, key_required=True, http_client=http_client,
            timeouts=Timeouts(connect=2.0, read=kw.pop("read_timeout", 10.0)),
            max_attempts=kw.pop("max_attempts", 3), backoff_base=0.01, backoff_max=0.05,
        )
        if chat:
            return OpenAICompatibleModel("openai", model, max_tokens_param="max_completion_tokens", **common)
        return OpenAIResponsesModel("openai", model, **common, **kw)

    yield factory
    for server in servers:
        server.stop()


def test_text_streams_and_tool_calls_assemble(make):
    script = Script({"gpt-5": [{"text": "Reading a.py now.", "chunk_chars": 3,
                                "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]}]})
    shown: list[str] = []
    response = make(script).chat(USER, tools=TOOLS, reasoning_effort="thorough", on_text=shown.append)
    assert "".join(shown) == response.text == "Reading a.py now." and len(shown) > 3
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("read_file", {"path": "a.py"})]
    assert response.finish_reason == "tool_calls"
    body = script.requests[0].body
    assert body["tools"] == [{
        "type": "function", "name": "read_file", "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}, "strict": False,
    }]
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    assert [i["role"] for i in body["input"]] == ["system", "user"]
    assert "messages" not in body


def test_usage_is_mapped_exactly_and_costs_what_chat_completions_costs(make):
    script = Script({"gpt-5": [{"text": "same", "usage": USAGE}, {"text": "same", "usage": USAGE}]})
    over_responses = make(script).chat(USER)
    over_chat = make(script, chat=True).chat(USER)
    assert [r.api for r in script.requests] == ["responses", "chat"]
    usage = over_responses.usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        1200, 1024, 700, 512
    )
    assert usage.source == "reported"
    # the same counts; each keeps its own provider object in `raw`
    assert over_chat.usage.model_dump(exclude={"raw"}) == usage.model_dump(exclude={"raw"})
    assert pricing.cost_of(usage, "openai:gpt-5") == pricing.cost_of(over_chat.usage, "openai:gpt-5")
    # the provider's own usage object is kept as received
    assert over_responses.raw_usage == {
        "input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 0},
        "output_tokens": 700, "output_tokens_details": {"reasoning_tokens": 512}, "total_tokens": 1900,
    }


def test_output_cap_is_sent_as_max_output_tokens(make):
    script = Script({"gpt-5": ["ok"]})
    make(script).chat(USER, max_tokens=500_000)
    assert script.requests[0].body["max_output_tokens"] == 128_000  # the model's own cap


def test_a_model_without_reasoning_gets_no_reasoning_parameters(make):
    script = Script({"gpt-4.1": ["ok"]})
    response = make(script, model="gpt-4.1").chat(USER, reasoning_effort="high")
    body = script.requests[0].body
    assert response.text == "ok" and "reasoning" not in body and "include" not in body
    assert response.reasoning_summary == ""


def test_reasoning_summary_is_kept_apart_from_the_text(make):
    script = Script({"gpt-5": [{"text": "Answer.", "reasoning_summary": "**Weighing options**\n\nA or B."}]})
    response = make(script).chat(USER, reasoning_effort="low")
    assert response.text == "Answer."
    assert response.reasoning_summary == "**Weighing options**\n\nA or B."
    assert response.assistant_message()["content"] == "Answer."
    script2 = Script({"gpt-5": [{"text": "Answer.", "reasoning_summary": "hidden"}]})
    quiet = make(script2, reasoning_summary="none").chat(USER, reasoning_effort="low")
    assert quiet.reasoning_summary == "" and "summary" not in script2.requests[0].body["reasoning"]


def _tool_round(model: OpenAICompatibleModel) -> list[dict]:
    first = model.chat(USER, tools=TOOLS, reasoning_effort="high")
    messages = [*USER, first.assistant_message()]
    messages += [{"role": "tool", "tool_call_id": c.id, "content": "print(1)"} for c in first.tool_calls]
    second = model.chat(messages, tools=TOOLS, reasoning_effort="high")
    assert second.text == "It prints 1."
    return messages


TOOL_TURNS = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}], "reasoning_tokens": 90},
    {"text": "It prints 1.", "expect": {"carries_reasoning": True}},
]


def test_without_store_the_encrypted_reasoning_goes_back(make):
    script = Script({"gpt-5": list(TOOL_TURNS)})
    _tool_round(make(script))
    second = script.requests[1].body
    kinds = [i.get("type", "message") for i in second["input"]]
    assert kinds == ["message", "message", "reasoning", "function_call", "function_call_output"]
    reasoning = second["input"][2]
    assert reasoning["encrypted_content"].startswith("gAAAA") and "previous_response_id" not in second
    assert second["input"][3]["call_id"] == second["input"][4]["call_id"] == "call_scripted_0"
    # the carried reasoning is billed as input again, as the provider does
    assert script.responses.served and not script.responses.stored
    script.assert_clean()


def test_with_store_the_next_call_names_the_previous_response(make):
    script = Script({"gpt-5": list(TOOL_TURNS)})
    _tool_round(make(script, store=True))
    first, second = (r.body for r in script.requests)
    assert first["store"] is True and "include" not in first
    assert second["previous_response_id"] == next(iter(script.responses.stored))
    assert second["input"] == [
        {"type": "function_call_output", "call_id": "call_scripted_0", "output": "print(1)"}
    ]
    script.assert_clean()


def test_with_store_a_rebuilt_conversation_replays_instead_of_chaining(make):
    script = Script({"gpt-5": [*TOOL_TURNS, {"text": "again", "expect": {"carries_reasoning": True}}]})
    model = make(script, store=True)
    messages = _tool_round(model)
    # a conversation whose earlier part changed cannot continue the stored response
    rebuilt = [{"role": "system", "content": "Another system prompt."}, *messages[1:]]
    model.chat(rebuilt, tools=TOOLS)
    third = script.requests[2].body
    assert "previous_response_id" not in third
    assert [i.get("type", "message") for i in third["input"]][:3] == ["message", "message", "reasoning"]
    script.assert_clean()


def test_chat_completions_never_sends_the_responses_state(make):
    script = Script({"gpt-5": [TOOL_TURNS[0], "chat answer"]})
    first = make(script).chat(USER, tools=TOOLS)
    messages = [*USER, first.assistant_message(), {"role": "tool", "tool_call_id": "call_scripted_0", "content": "x"}]
    assert "provider_state" in messages[2]
    make(script, chat=True).chat(messages, tools=TOOLS)
    sent = script.requests[1].body["messages"]
    assert all("provider_state" not in m for m in sent)
    assert sent[2]["tool_calls"][0]["id"] == "call_scripted_0"


def test_rate_limit_and_server_errors_are_retried(make):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 0}, {"fault": "server_error"}, "third time"]})
    response = make(script).chat(USER)
    assert response.text == "third time" and response.attempts == 3


def test_rate_limit_that_persists_is_a_clear_error(make):
    script = Script({"gpt-5": [{"fault": "rate_limit", "retry_after": 0, "repeat": True}]})
    with pytest.raises(RateLimitError, match="rate limited"):
        make(script, max_attempts=2).chat(USER)


def test_failed_response_is_a_failure_with_its_partial_cost(make):
    script = Script({"gpt-5": [{"text": "half an ans", "fault": "response_failed",
                                "error_message": "The model crashed.", "usage": {"input": 300, "output": 40}}]})
    shown: list[str] = []
    with pytest.raises(BadResponseError) as info:
        make(script).chat(USER, on_text=shown.append)
    assert str(info.value) == "openai:gpt-5 failed (response.failed, server_error): The model crashed."
    assert (info.value.usage.input_tokens, info.value.usage.output_tokens) == (300, 40)
    assert info.value.usage.source == "reported" and "".join(shown) == "half an ans"
    assert len(script.requests) == 1  # text was shown: never retried


def test_incomplete_response_is_a_failure_with_its_partial_cost(make):
    script = Script({"gpt-5": [{"text": "cut short by the cap", "fault": "response_incomplete",
                                "usage": {"input": 300, "output": 64, "reasoning": 60}}]})
    with pytest.raises(ResponseIncompleteError, match=r"response.incomplete: max_output_tokens") as info:
        make(script).chat(USER, max_tokens=64)
    usage = info.value.usage
    assert (usage.output_tokens, usage.reasoning_tokens, usage.source) == (64, 60, "reported")
    assert script.requests[0].body["max_output_tokens"] == 64


def test_a_cut_stream_is_a_clear_failure_with_estimated_cost(make):
    script = Script({"gpt-5": [{"text": "this stream is cut half way through", "fault": "cut", "after_chunks": 9}]})
    with pytest.raises(BadResponseError, match="cut off") as info:
        make(script).chat(USER)
    assert info.value.usage.source == "estimated" and info.value.usage.input_tokens > 0
    assert info.value.usage.output_tokens > 0


def test_a_stream_without_its_terminal_event_is_not_an_answer(make):
    # a proxy that closes the body cleanly after some events, with no response.completed
    script = Script({"gpt-5": [{"text": "no ending", "fault": "no_choices"}]})
    with pytest.raises(BadResponseError, match="without response.completed") as info:
        make(script).chat(USER)
    assert info.value.usage.output_tokens > 0


def test_cancel_mid_stream_closes_the_stream(make):
    script = Script({"gpt-5": [{"text": "streaming then silence " * 3, "fault": "stall",
                                "stall_seconds": 120, "after_chunks": 8}]})
    token, first_text = CancelToken(), threading.Event()
    outcome: dict[str, BaseException] = {}
    model = make(script, read_timeout=120)

    def run() -> None:
        try:
            model.chat(USER, on_text=lambda _: first_text.set(), cancel=token)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert first_text.wait(20)
    token.cancel()
    worker.join(30)  # far below the 120 s stall: only a closed stream ends it
    assert not worker.is_alive()
    error = outcome["error"]
    assert isinstance(error, ModelCallCancelled)
    assert error.usage.input_tokens > 0 and error.usage.output_tokens > 0


def test_malformed_arguments_are_reported_on_the_call(make):
    script = Script({"gpt-5": [{"tool_calls": [{"name": "read_file", "arguments": {"path": "a"}}],
                                "fault": "malformed_tool_json"}]})
    call = make(script).chat(USER, tools=TOOLS).tool_calls[0]
    assert call.arguments is None and "not valid JSON" in call.parse_error
    json.loads(call.arguments_json + "}")  # exactly the brace is missing


def test_an_organisation_refused_summaries_still_gets_its_answer(make):
    refusal = ("Your organization must be verified to generate reasoning summaries. Please go to: "
               "https://platform.openai.com/settings/organization/general and click on Verify Organization.")
    script = Script({"gpt-5": [
        {"status": 400, "error_message": refusal},
        {"text": "answer", "expect": {"reasoning_summary": None}},
        {"text": "again", "expect": {"reasoning_summary": None}},
    ]})
    model = make(script)
    assert model.chat(USER, reasoning_effort="high").text == "answer"
    assert model.chat(USER, reasoning_effort="high").text == "again"  # not asked for again
    assert script.requests[0].body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert script.requests[1].body["reasoning"] == {"effort": "high"}
    script.assert_clean()
    other = Script({"gpt-5": [{"status": 400, "error_message": "Invalid value for 'input'."}]})
    with pytest.raises(BadResponseError, match="Invalid value"):
        make(other).chat(USER)
    assert len(other.requests) == 1  # any other refusal is not retried
