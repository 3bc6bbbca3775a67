"""The scripted model's /v1/responses speaks the real wire format, checked with the SDK's types."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from mira_jupyter.testing import Script, ScriptedServer, scripted_http_client
from mira_jupyter.testing.responses_wire import decrypt_reasoning

EVENTS = TypeAdapter(ResponseStreamEvent)
TOOL = {
    "type": "function",
    "name": "read_file",
    "description": "Read a file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    "strict": False,
}
REASONING_TURN = {
    "text": "Reading it now.",
    "reasoning_summary": "**Looking at the file**\n\nThe user wants a.py read.",
    "reasoning_tokens": 64,
    "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
}


def _client(script: Script) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test", base_url="http://scripted.invalid/v1",
        http_client=scripted_http_client(script), max_retries=0,
    )


def _raw_events(script: Script, body: dict) -> list[tuple[str, dict]]:
    """POST and split the SSE body into (event line, data) pairs, without the SDK."""
    with httpx.Client(transport=scripted_http_client(script)._transport) as http:
        reply = http.post("http://scripted.invalid/v1/responses", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/event-stream"
    out = []
    for block in reply.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def _body(**extra) -> dict:
    return {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "read a.py"}],
        "tools": [TOOL],
        "stream": True,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "high", "summary": "auto"},
        **extra,
    }


def test_every_streamed_event_parses_with_the_sdk_types():
    events = _raw_events(Script({"gpt-5": [REASONING_TURN]}), _body())
    parsed = [EVENTS.validate_python(data) for _, data in events]
    for (name, data), event in zip(events, parsed, strict=True):
        assert name == data["type"] == event.type
    assert [e.sequence_number for e in parsed] == list(range(len(parsed)))
    kinds = [e.type for e in parsed]
    for needed in (
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ):
        assert needed in kinds, needed
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    final = parsed[-1].response
    assert isinstance(final, Response) and final.status == "completed"
    assert [o.type for o in final.output] == ["reasoning", "message", "function_call"]
    reasoning = final.output[0]
    assert [s.text for s in reasoning.summary] == ["**Looking at the file**", "The user wants a.py read."]
    assert decrypt_reasoning(reasoning.encrypted_content)["t"] == 64
    text = "".join(e.delta for e in parsed if e.type == "response.output_text.delta")
    args = "".join(e.delta for e in parsed if e.type == "response.function_call_arguments.delta")
    summary = "".join(e.delta for e in parsed if e.type == "response.reasoning_summary_text.delta")
    assert text == "Reading it now." and json.loads(args) == {"path": "a.py"}
    assert summary == "**Looking at the file**The user wants a.py read."
    assert final.usage.output_tokens_details.reasoning_tokens == 64
    assert final.usage.output_tokens > 64


def test_the_sdk_stream_helper_accumulates_the_scripted_stream():
    script = Script({"gpt-5": [REASONING_TURN]})
    client = _client(script)
    body = _body()
    body.pop("stream")
    with client.responses.stream(**body) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == "Reading it now."
    call = final.output[-1]
    assert call.type == "function_call" and call.name == "read_file"
    assert json.loads(call.arguments) == {"path": "a.py"}
    assert script.requests[0].api == "responses"
    assert script.requests[0].tool_names == ["read_file"]
    assert script.requests[0].reasoning_effort == "high"


def test_json_reply_is_a_response_object():
    script = Script({"gpt-5": [{"text": "plain", "cached_tokens": 5, "usage": {"input": 20, "output": 3}}]})
    response = _client(script).responses.create(model="gpt-5", input="hi", store=False)
    assert isinstance(response, Response)
    assert response.output_text == "plain"
    usage = response.usage
    assert (usage.input_tokens, usage.input_tokens_details.cached_tokens, usage.output_tokens) == (20, 5, 3)
    assert response.store is False


def _first_turn(client: openai.OpenAI, store: bool) -> Response:
    return client.responses.create(
        model="gpt-5", input=[{"role": "user", "content": "read a.py"}], tools=[TOOL],
        store=store, include=[] if store else ["reasoning.encrypted_content"],
        reasoning={"effort": "high", "summary": "auto"},
    )


def test_previous_response_id_chains_stored_responses_and_counts_their_context():
    script = Script({"gpt-5": [REASONING_TURN, {"text": "It defines main().", "expect": {"carries_reasoning": True}}]})
    client = _client(script)
    first = _first_turn(client, store=True)
    output = [{"type": "function_call_output", "call_id": "call_scripted_0", "output": "def main(): ..."}]
    second = client.responses.create(
        model="gpt-5", previous_response_id=first.id, input=output, store=True, tools=[TOOL],
        reasoning={"effort": "high"},
    )
    assert second.output_text == "It defines main()."
    # the stored chain (including its 64 reasoning tokens) is billed as input again
    assert second.usage.input_tokens > first.usage.input_tokens + 64
    script.assert_clean()


def test_encrypted_reasoning_items_are_accepted_back_when_nothing_is_stored():
    script = Script({"gpt-5": [REASONING_TURN, {"text": "ok", "expect": {"carries_reasoning": True}}, "unused"]})
    client = _client(script)
    first = _first_turn(client, store=False)
    items = [o.model_dump(exclude_none=True) for o in first.output]
    output = {"type": "function_call_output", "call_id": "call_scripted_0", "output": "x"}
    second = client.responses.create(
        model="gpt-5", input=[{"role": "user", "content": "read a.py"}, *items, output], store=False,
    )
    assert second.output_text == "ok"
    script.assert_clean()
    with pytest.raises(openai.BadRequestError, match="Previous response with id"):
        client.responses.create(model="gpt-5", previous_response_id=first.id, input="more", store=False)


@pytest.mark.parametrize(
    ("mangle", "error", "message"),
    [
        (lambda items: [i for i in items if i["type"] != "function_call_output"],
         openai.BadRequestError, "No tool output found"),
        (lambda items: [{**i, "encrypted_content": "gAAAABforged"} if i["type"] == "reasoning" else i
                        for i in items], openai.BadRequestError, "could not be verified"),
        (lambda items: [{k: v for k, v in i.items() if k != "encrypted_content"} for i in items],
         openai.NotFoundError, "Items are not persisted"),
        (lambda items: [i for i in items if i["type"] != "function_call"],
         openai.BadRequestError, "No tool call found"),
        # a group split up: the call without the reasoning it followed, and the reverse
        (lambda items: [i for i in items if i["type"] != "reasoning"],
         openai.BadRequestError, "without its required 'reasoning' item"),
        (lambda items: [i for i in items if i["type"] != "message"],
         openai.BadRequestError, "without its required following item"),
    ],
)
def test_input_a_real_server_refuses_is_refused(mangle, error, message):
    script = Script({"gpt-5": [REASONING_TURN, "unused"]})
    client = _client(script)
    first = _first_turn(client, store=False)
    items = [o.model_dump(exclude_none=True) for o in first.output]
    items.append({"type": "function_call_output", "call_id": "call_scripted_0", "output": "x"})
    with pytest.raises(error, match=message):
        client.responses.create(model="gpt-5", input=mangle(items), store=False)


@pytest.mark.parametrize(
    ("fault", "terminal", "status"),
    [("response_incomplete", "response.incomplete", "incomplete"),
     ("response_failed", "response.failed", "failed")],
)
def test_failed_and_incomplete_responses_end_with_their_event(fault, terminal, status):
    turn = {"text": "partial answer", "fault": fault, "usage": {"input": 100, "output": 50}}
    events = _raw_events(Script({"gpt-5": [turn]}), _body())
    last = EVENTS.validate_python(events[-1][1])
    assert last.type == terminal and last.response.status == status
    assert last.response.usage.output_tokens == 50  # partial usage is reported
    if fault == "response_incomplete":
        assert last.response.incomplete_details.reason == "max_output_tokens"
    else:
        assert last.response.error.code == "server_error"


def test_cut_and_http_faults_apply_to_responses_too():
    script = Script({"gpt-5": [
        {"fault": "rate_limit", "retry_after": 1},
        {"text": "a long answer that is cut", "fault": "cut", "after_chunks": 4},
    ]})
    client = _client(script)
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="gpt-5", input="hi")
    stream = client.responses.create(model="gpt-5", input="hi", stream=True)
    seen = []
    with pytest.raises(httpx.RemoteProtocolError):
        for event in stream:
            seen.append(event.type)
    assert seen == ["response.created", "response.in_progress", "response.output_item.added",
                    "response.content_part.added"]


def test_real_http_server_streams_responses():
    script = Script({"gpt-5": [REASONING_TURN]})
    with ScriptedServer(script) as server:
        client = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
        kinds = [e.type for e in client.responses.create(**_body())]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert script.requests[0].has_authorization and "authorization" not in script.requests[0].headers


def test_reasoning_before_the_latest_user_message_is_not_billed():
    script = Script({"gpt-5": [REASONING_TURN, "a", "b"]})
    client = _client(script)
    first = _first_turn(client, store=False)
    items = [o.model_dump(exclude_none=True) for o in first.output]
    output = {"type": "function_call_output", "call_id": "call_scripted_0", "output": "x"}
    base = [{"role": "user", "content": "read a.py"}, *items, output]
    within = client.responses.create(model="gpt-5", input=base, tools=[TOOL], store=False)
    after = client.responses.create(
        model="gpt-5", input=[*base, {"role": "user", "content": "next"}], tools=[TOOL], store=False
    )
    # the 64 reasoning tokens count inside the tool loop; after a new user message they
    # are dropped, so only the new message's few tokens are added
    assert 0 < after.usage.input_tokens - (within.usage.input_tokens - 64) < 10
