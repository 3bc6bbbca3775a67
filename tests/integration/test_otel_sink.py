"""The OpenTelemetry sink: GenAI-convention traces over real OTLP/HTTP, never in a cell's way."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from otlp_receiver import Receiver
from store_events import full_operation

from mira_jupyter.core.events import LLMCallStarted, ToolCallStarted
from mira_jupyter.sinks.otel import OtelSink, configured_endpoint

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def _numbered(events):
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


def test_an_operation_arrives_as_one_trace_with_the_right_parents_and_tokens(receiver) -> None:
    sink = OtelSink(configured_endpoint(receiver.endpoint))
    events = _numbered(full_operation("op1", "s1"))
    for event in events:
        sink(event)
    assert sink.flush(timeout=30)
    expected = Counter(["invoke_agent mira"])
    expected.update(f"chat {e.model}" for e in events if isinstance(e, LLMCallStarted))
    expected.update(f"execute_tool {e.tool}" for e in events if isinstance(e, ToolCallStarted))
    assert Counter(s.name for s in receiver.spans) == expected
    assert expected["chat gpt-5"] == 1 and sum(expected.values()) >= 5
    spans = {s.name: s for s in receiver.spans}
    root = spans["invoke_agent mira"]
    assert root.parent_span_id == ""
    assert {s.trace_id for s in receiver.spans} == {root.trace_id}
    assert all(s.parent_span_id == root.span_id for s in receiver.spans if s is not root)
    chat = spans["chat gpt-5"]
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.request.model"] == "gpt-5"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 1000
    assert chat.attributes["gen_ai.usage.output_tokens"] == 300
    assert chat.attributes["mira.cost_usd"] == pytest.approx(0.0038)
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.usage.input_tokens"] == 6000
    assert root.attributes["mira.cost_usd"] == pytest.approx(0.00583)
    tools = [s for s in receiver.spans if s.name.startswith("execute_tool ")]
    assert tools and all(s.attributes["gen_ai.operation.name"] == "execute_tool" for s in tools)
    assert all(s.attributes["gen_ai.tool.name"] == s.name.split(" ", 1)[1] for s in tools)
    assert all(s.end_ns >= s.start_ns > 0 for s in receiver.spans)
    sink.close()


def test_a_hung_receiver_never_holds_up_the_caller(receiver) -> None:
    # the receiver takes requests and does not answer until the end of the test: with a
    # synchronous export the sink's caller (the engine's thread) would hang with it
    receiver.release.clear()
    # a long exporter timeout: a synchronous export would hold each span that long
    sink = OtelSink(configured_endpoint(receiver.endpoint), timeout=30.0, schedule_delay_ms=50)
    events = _numbered(full_operation("op1", "s1") + full_operation("op2", "s1"))
    done = threading.Event()

    def feed() -> None:
        for event in events:
            sink(event)
        done.set()

    worker = threading.Thread(target=feed)
    worker.start()
    assert receiver.arrived.wait(60), "the exporter sent something meanwhile"
    worker.join(20)
    assert done.is_set(), "feeding events waited for the hung receiver"
    receiver.release.set()
    sink.close()


def test_the_endpoint_comes_from_the_setting_or_the_standard_variable(monkeypatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert configured_endpoint("") is None
    assert configured_endpoint("http://collector:4318") == "http://collector:4318/v1/traces"
    assert configured_endpoint("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel.internal:4318/")
    assert configured_endpoint(None) == "http://otel.internal:4318/v1/traces"
    assert configured_endpoint("http://mine:4318") == "http://mine:4318/v1/traces"


def test_a_cell_with_otel_endpoint_set_sends_its_trace(receiver, tmp_path, monkeypatch) -> None:
    from engine_helpers import EXEC, ORCH
    from IPython.core.interactiveshell import InteractiveShell

    import mira_jupyter.testing as mt

    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "mira_jupyter")
        ip.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
        ip.run_line_magic("config", f'Mira.executor_model = "scripted:{EXEC}"')
        ip.run_line_magic("config", 'Mira.view = "text"')
        ip.run_line_magic("config", f'Mira.otel_endpoint = "{receiver.endpoint}"')
        mt.use_script(mt.Script({ORCH: ["Forty-two."]}))
        op = ip.run_cell_magic("mira", "--mode simple", "what is the answer?")
        assert op.status == "completed"
        session = ip._mira_magics.session
        assert session._otel[1].flush(timeout=30)
    finally:
        ip.run_line_magic("unload_ext", "mira_jupyter")
        InteractiveShell.clear_instance()
    roots = [s for s in receiver.spans if s.name == "invoke_agent mira"]
    assert len(roots) == 1 and roots[0].attributes["mira.operation_id"] == op.id
    chats = [s for s in receiver.spans if s.name.startswith("chat ")]
    assert chats and all(s.parent_span_id == roots[0].span_id for s in chats)
    assert all(s.attributes["gen_ai.usage.input_tokens"] > 0 for s in chats)


def test_closing_the_sink_does_not_wait_for_a_hung_receiver_and_still_sends_its_spans(receiver) -> None:
    # r17d F3: close() ran the SDK's shutdown on the caller's thread, which waits for the
    # export in flight (up to 30 s): a cell or a kernel's exit waited for a dead receiver
    receiver.release.clear()
    sink = OtelSink(configured_endpoint(receiver.endpoint), timeout=300.0, schedule_delay_ms=50)
    events = _numbered(full_operation("op1", "s1"))
    for event in events:
        sink(event)
    assert receiver.arrived.wait(60)  # an export is in flight, held by the receiver
    closed: list[bool] = []
    closer = threading.Thread(target=lambda: closed.append(sink.close()))
    closer.start()
    # a hang bound below the SDK's own 30 s wait, not a timing: close waits 1 s at most
    closer.join(20)
    assert not closer.is_alive(), "close() waited for the hung receiver"
    assert closed == [False]  # it said the export was not done yet
    assert not receiver.spans  # nothing was answered while close ran
    receiver.release.set()  # the receiver answers: the spans in flight still arrive
    expected = 1 + sum(isinstance(e, LLMCallStarted | ToolCallStarted) for e in events)
    for _ in range(1200):
        if len(receiver.spans) >= expected:
            break
        threading.Event().wait(0.05)
    assert Counter(s.name for s in receiver.spans)["invoke_agent mira"] == 1
    assert len(receiver.spans) == expected
