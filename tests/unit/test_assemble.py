"""Assembling streamed chunks: parallel tool calls, odd servers, malformed chunks."""

from __future__ import annotations

import pytest

from mira_jupyter.core.arguments import parse_arguments
from mira_jupyter.llm.assemble import MalformedChunk, StreamAccumulator


def chunk(delta=None, finish=None, **extra):
    data = {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}], **extra}
    return data


def call_delta(index, *, id=None, name=None, arguments=None):
    function = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    entry = {"index": index, "function": function}
    if id:
        entry["id"] = id
    return {"tool_calls": [entry]}


def test_parallel_calls_arriving_out_of_order():
    acc = StreamAccumulator()
    acc.add(chunk(call_delta(1, id="b", name="grep_files", arguments="")))
    acc.add(chunk(call_delta(0, id="a", name="read_file", arguments='{"pa')))
    acc.add(chunk(call_delta(1, arguments='{"pattern"')))
    acc.add(chunk(call_delta(0, arguments='th": "x.py"}')))
    acc.add(chunk(call_delta(1, arguments=': "def"}')))
    acc.add(chunk(finish="tool_calls"))
    calls = acc.tool_calls()
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "read_file", {"path": "x.py"}),
        ("b", "grep_files", {"pattern": "def"}),
    ]
    assert acc.finish_reason == "tool_calls" and acc.text == ""


def test_server_repeating_the_name_in_every_delta():
    acc = StreamAccumulator()
    acc.add(chunk(call_delta(0, id="a", name="read_file", arguments='{"path":')))
    acc.add(chunk(call_delta(0, name="read_file", arguments=' "a"}')))
    assert acc.tool_calls()[0].name == "read_file"


def test_calls_without_index_are_kept_apart_by_id():
    acc = StreamAccumulator()
    for call_id, name in (("x1", "list_files"), ("x2", "count_lines")):
        acc.add(
            chunk({"tool_calls": [{"id": call_id, "function": {"name": name, "arguments": "{}"}}]})
        )
    assert [c.name for c in acc.tool_calls()] == ["list_files", "count_lines"]


def test_missing_id_and_name_are_reported_not_crashed():
    acc = StreamAccumulator()
    acc.add(chunk(call_delta(0, arguments='{"a": 1}')))
    call = acc.tool_calls()[0]
    assert call.id == "call_0" and call.parse_error and "without a name" in call.parse_error


def test_empty_arguments_mean_no_parameters():
    assert parse_arguments("") == ({}, None)
    assert parse_arguments("  ") == ({}, None)
    args, error = parse_arguments('{"a": ')
    assert args is None and error and "not valid JSON" in error


def test_arguments_nested_deeper_than_the_decoder_goes_are_reported_not_crashed():
    # a RecursionError here used to end the whole operation as an "internal error"
    acc = StreamAccumulator()
    acc.add(chunk(call_delta(0, id="a", name="read_file", arguments='{"path": ' + "[" * 100_000)))
    call = acc.tool_calls()[0]
    assert call.arguments is None and "nested too deeply" in call.parse_error


def test_usage_only_chunk_and_reasoning_content():
    acc = StreamAccumulator()
    acc.add(chunk({"reasoning_content": "thinking..."}))
    assert acc.first_token_seen and not acc.output_started
    assert acc.add(chunk({"content": "answer"}, model="m1")) == "answer"
    acc.add({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
    assert acc.usage == {"prompt_tokens": 3, "completion_tokens": 4}
    assert acc.model == "m1" and acc.text == "answer"
    assert "thinking..." in acc.other_output_texts()


def test_other_choices_are_ignored():
    acc = StreamAccumulator()
    acc.add({"choices": [{"index": 1, "delta": {"content": "other"}}]})
    assert acc.text == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x"},
        {"choices": "nope"},
        {"choices": [{"index": 0, "delta": "text"}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": ["x"]}}]},
        "a string",
    ],
)
def test_malformed_chunks_raise_malformed_chunk(bad):
    with pytest.raises(MalformedChunk):
        StreamAccumulator().add(bad)
