"""Chat messages to Responses input items, and the stream fold, without a server."""

from __future__ import annotations

import pytest
from openai.types.responses import ResponseInputItemParam  # noqa: F401 - the shape we target
from pydantic import TypeAdapter

from mira_jupyter.llm.responses_input import build_input, fingerprint, output_state, to_tools
from mira_jupyter.llm.responses_stream import ResponsesAccumulator
from mira_jupyter.llm.types import PROVIDER_STATE_KEY, ChatResponse, Usage, without_provider_state

ITEM = TypeAdapter(ResponseInputItemParam)


def test_plain_conversation_maps_to_items():
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path":"a"}'}}
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "data"},
    ]
    items, previous = build_input(messages, store=False)
    assert previous is None
    assert items == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "message", "role": "assistant", "content": "Let me look."},
        {"type": "function_call", "call_id": "c1", "name": "read_file", "arguments": '{"path":"a"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "data"},
    ]
    for item in items:
        ITEM.validate_python(item)  # the SDK's request types accept every item


def test_unknown_roles_and_parts_are_clear_errors():
    with pytest.raises(ValueError, match="role 'function'"):
        build_input([{"role": "function", "content": "x"}], store=False)
    with pytest.raises(ValueError, match="cannot be sent"):
        build_input([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], store=False)


def _state(response_id: str, context: list, stored: bool) -> dict:
    items = [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAABxyz"},
        {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": "{}"},
    ]
    state = output_state(response_id, items, stored=stored)
    state["context"] = fingerprint(context)
    return state


def test_store_chains_only_onto_the_context_it_came_from():
    head = [{"role": "user", "content": "q"}]
    assistant = {"role": "assistant", "content": None, PROVIDER_STATE_KEY: _state("resp_1", head, True)}
    tail = [{"role": "tool", "tool_call_id": "c1", "content": "r"}]
    items, previous = build_input([*head, assistant, *tail], store=True)
    assert previous == "resp_1" and items == [
        {"type": "function_call_output", "call_id": "c1", "output": "r"}
    ]
    changed = [{"role": "user", "content": "another q"}]
    items, previous = build_input([*changed, assistant, *tail], store=True)
    assert previous is None and [i.get("type", "message") for i in items] == [
        "message", "reasoning", "function_call", "function_call_output"
    ]
    assert all("stored" not in i for i in items)


def test_without_store_reasoning_without_encrypted_content_is_dropped():
    state = output_state("r", [{"type": "reasoning", "id": "rs_9", "summary": []}], stored=False)
    message = {"role": "assistant", "content": "x", PROVIDER_STATE_KEY: state}
    items, _ = build_input([message], store=False)
    assert items == []  # the reasoning cannot be replayed; nothing else was in the output


def test_tools_become_flat_and_not_strict():
    schema = {"type": "object", "properties": {}}
    nested = [{"type": "function", "function": {"name": "t", "description": "d", "parameters": schema}}]
    assert to_tools(nested) == [
        {"type": "function", "name": "t", "description": "d", "parameters": schema, "strict": False}
    ]
    assert to_tools(None) is None


def test_assistant_message_carries_state_and_other_apis_strip_it():
    state = {"api": "responses", "items": []}
    response = ChatResponse("t", [], Usage(), "stop", "m", 1.0, provider_state=state)
    message = response.assistant_message()
    assert message[PROVIDER_STATE_KEY] is state
    assert without_provider_state(message) == {"role": "assistant", "content": "t"}
    plain = ChatResponse("t", [], Usage(), "stop", "m", 1.0).assistant_message()
    assert PROVIDER_STATE_KEY not in plain and without_provider_state(plain) is plain


def test_accumulator_rejects_junk_and_survives_unknown_events():
    acc = ResponsesAccumulator()
    from mira_jupyter.llm.assemble import MalformedChunk

    with pytest.raises(MalformedChunk):
        acc.add({"no": "type"})
    assert acc.add({"type": "response.web_search_call.searching", "sequence_number": 1}) == ""
    assert acc.add({"type": "response.output_text.delta", "delta": "hi"}) == "hi"
    assert acc.status is None and acc.text == "hi"


def test_items_after_a_dropped_reasoning_item_lose_their_ids():
    items = [
        {"type": "reasoning", "id": "rs_1", "summary": []},  # no encrypted content
        {"type": "message", "id": "msg_1", "role": "assistant", "content": [{"type": "output_text", "text": "t"}]},
        {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": "{}"},
    ]
    message = {"role": "assistant", "content": "t", PROVIDER_STATE_KEY: output_state("r", items, stored=False)}
    replayed, _ = build_input([message], store=False)
    assert [i["type"] for i in replayed] == ["message", "function_call"]
    assert all("id" not in i for i in replayed)  # an id would tie them to the missing reasoning


def test_a_refusal_is_the_answer_not_an_empty_reply():
    # OpenAI streams a refusal as its own content part and event type, not output_text
    from openai.types.responses import ResponseStreamEvent

    msg = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    refusal = {"type": "refusal", "refusal": "I can't help with that."}
    done = {**msg, "status": "completed", "content": [refusal]}
    at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    response = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
        "output": [done], "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "error": None, "incomplete_details": None, "instructions": None, "metadata": {},
        "temperature": 1.0, "top_p": 1.0,
    }
    events = [
        {"type": "response.output_item.added", "output_index": 0, "item": msg},
        {"type": "response.content_part.added", **at, "part": {"type": "refusal", "refusal": ""}},
        {"type": "response.refusal.delta", **at, "delta": "I can't "},
        {"type": "response.refusal.delta", **at, "delta": "help with that."},
        {"type": "response.refusal.done", **at, "refusal": "I can't help with that."},
        {"type": "response.content_part.done", **at, "part": refusal},
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {"type": "response.completed", "response": response},
    ]
    acc = ResponsesAccumulator()
    shown = []
    for n, event in enumerate(events):
        TypeAdapter(ResponseStreamEvent).validate_python({**event, "sequence_number": n})
        shown.append(acc.add({**event, "sequence_number": n}))
    assert "".join(shown) == acc.text == "I can't help with that."
    # carried back as the refusal it was (a valid input item), not as an empty message
    state = output_state("resp_1", acc.items, stored=False)
    message = {"role": "assistant", "content": acc.text, PROVIDER_STATE_KEY: state}
    replayed, _ = build_input([message], store=False)
    assert replayed[0]["content"] == [refusal]
    TypeAdapter(ResponseInputItemParam).validate_python(replayed[0])
