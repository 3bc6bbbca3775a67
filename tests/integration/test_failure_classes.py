"""Failure classes: what is retried, what falls back from simple to planned, what is stored.

Permanent failures (no key, a refused key, no permission, 400, 404, an unknown model, a
closed port) are sent once and never down the fallback. Transient ones are retried only
when that cannot double the user's wait; a hung server costs one timeout, not two.
"""

from __future__ import annotations

import socket
import threading

import pytest
from engine_helpers import ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions

QUESTION = "what does this project do?"  # scores as a simple request


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    return tmp_path


def assert_said_once(h: Harness, op) -> None:
    """The failure reaches the views once (OperationFinished), never as a notice or mode note."""
    assert op.error and "\n" not in op.error
    (finished,) = h.of("OperationFinished")
    assert finished.error == op.error
    shown = [n.message for n in h.of("Notice")] + [m.reason for m in h.of("ModeChanged")]
    assert not [text for text in shown if op.error in text or text in op.error]


PERMANENT = [
    pytest.param({"fault": "status", "status": 401}, "refused the credentials", id="auth-401"),
    pytest.param({"fault": "status", "status": 403}, "HTTP 403", id="permission-403"),
    pytest.param(
        {"fault": "status", "status": 400, "error_message": "context length exceeded"},
        "context length exceeded",
        id="bad-request-400",
    ),
    pytest.param({"fault": "status", "status": 404}, "HTTP 404", id="not-found-404"),
]


@pytest.mark.parametrize(("turn", "words"), PERMANENT)
def test_permanent_http_failures_are_sent_once_and_never_fall_back(project, turn, words):
    script = mt.Script({ORCH: [turn, plan_turn("never"), "never", "never"]})
    h = Harness(project, script)
    op = h.engine.run(QUESTION)
    assert op.status == "failed" and words in op.error
    assert len(script.requests) == 1, "not retried, not sent down the planned path"
    assert op.mode == "simple" and h.of("ModeChanged") == []
    assert_said_once(h, op)


def test_unknown_model_is_sent_once_and_never_falls_back(project):
    script = mt.Script({"another-model": ["never"]})  # the orchestrator's model is not served
    h = Harness(project, script)
    op = h.engine.run(QUESTION)
    assert op.status == "failed" and "was not found" in op.error
    assert len(script.requests) == 1 and h.of("ModeChanged") == []
    assert_said_once(h, op)


def test_missing_key_is_tried_once_and_said_once(project):
    h = Harness(project, mt.Script({ORCH: []}))
    h.engine.settings.orchestrator_model = "openai:gpt-5"
    op = h.engine.run(QUESTION)
    assert op.status == "failed" and op.error.startswith("OPENAI_API_KEY is not set")
    assert h.of("ModeChanged") == []
    assert [e.purpose for e in h.of("LLMCallFinished")] == ["simple"]
    assert_said_once(h, op)


def test_missing_executor_key_ends_a_planned_operation_at_the_first_delegation(project):
    script = mt.Script(
        {ORCH: [plan_turn("Summarise"), call("get_file_summary", paths=["README.md"]), "x", "y"]}
    )
    h = Harness(project, script)
    h.engine.settings.executor_model = "deepseek:deepseek-chat"
    op = h.engine.run("summarise the readme", RunOptions(mode="planned"))
    assert op.status == "failed" and op.error.startswith("DEEPSEEK_API_KEY is not set")
    # the orchestrator was not left to call the broken executor again and again
    assert len(script.requests) == 2
    (tool,) = h.of("ToolCallFinished")
    assert "DEEPSEEK_API_KEY" not in (tool.error or "")
    assert_said_once(h, op)


def test_rate_limit_is_retried_in_the_call_and_does_not_fall_back(project):
    busy = {"fault": "rate_limit", "retry_after": 0, "repeat": True}
    script = mt.Script({ORCH: [busy]})
    h = Harness(project, script, provider_settings={"max_attempts": "3"})
    op = h.engine.run(QUESTION)
    assert op.status == "failed" and "429" in op.error
    assert len(script.requests) == 3, "retried inside the call, then given up once"
    assert h.of("ModeChanged") == []
    assert_said_once(h, op)


def test_server_error_is_retried_then_succeeds_in_simple_mode(project):
    script = mt.Script({ORCH: [{"fault": "server_error", "retry_after": 0}, "It loads CSV files."]})
    h = Harness(project, script)
    op = h.engine.run(QUESTION)
    assert op.status == "completed" and op.mode == "simple"
    assert op.text == "It loads CSV files." and len(script.requests) == 2


def test_requested_simple_mode_never_falls_back(project):
    cut = {"text": "It loads CSV files and then", "fault": "cut", "after_chunks": 4}
    script = mt.Script({ORCH: [cut, plan_turn("never"), "never", "never"]})
    h = Harness(project, script)
    op = h.engine.run(QUESTION, RunOptions(mode="simple"))
    assert op.status == "failed" and "cut off" in op.error
    assert len(script.requests) == 1 and h.of("ModeChanged") == []
    # the text the user saw is kept, and marked partial
    seen = "".join(e.text for e in h.of("TextDelta"))
    assert seen and op.text == seen and op.partial and not op.truncated
    assert h.of("OperationFinished")[0].result_partial
    assert "partial answer" in op.summary_line()


def test_cut_stream_in_auto_mode_falls_back_once(project):
    cut = {"text": "It loads CSV files and then", "fault": "cut", "after_chunks": 4}
    script = mt.Script({ORCH: [cut, plan_turn("Answer"), "answered", "The whole answer."]})
    h = Harness(project, script)
    op = h.engine.run(QUESTION)
    assert op.status == "completed" and op.mode == "planned"
    assert op.text == "The whole answer." and not op.partial
    (change,) = h.of("ModeChanged")
    assert "stream cut" in change.reason


def test_when_the_fallback_fails_too_the_first_error_is_the_one_stored(project):
    cut = {"text": "It loads CSV files and then", "fault": "cut", "after_chunks": 4}
    second = {"fault": "status", "status": 400, "error_message": "second failure"}
    script = mt.Script({ORCH: [cut, second]})
    h = Harness(project, script)
    op = h.engine.run(QUESTION)
    assert op.status == "failed"
    first = next(e.error for e in h.of("LLMCallFinished") if e.purpose == "simple")
    assert op.error.startswith(first), "the real error comes first"
    assert "second failure" in op.error
    seen = "".join(e.text for e in h.of("TextDelta"))
    assert seen and op.text == seen and op.partial, "the partial answer the user saw is kept"
    assert_said_once(h, op)


def _free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on it now
    return port


def _compatible(h: Harness, base_url: str, timeout: float = 1.0) -> None:
    h.engine.settings.orchestrator_model = "compatible:local-model"
    h.engine.settings.provider_settings = {"compatible_base_url": base_url, "max_attempts": "4"}
    h.engine.settings.request_timeout = timeout


def test_server_down_fails_at_once_without_retry_or_fallback(project):
    h = Harness(project, mt.Script({ORCH: []}))
    base_url = f"http://127.0.0.1:{_free_port()}/v1"
    _compatible(h, base_url)
    op = h.engine.run(QUESTION)
    assert op.status == "failed" and "connection refused" in op.error and base_url in op.error
    assert h.of("ModeChanged") == []
    assert [e.purpose for e in h.of("LLMCallFinished")] == ["simple"]
    assert_said_once(h, op)


class HungServer:
    """Accepts connections on 127.0.0.1 and never answers; counts what it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.accepted: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)  # read nothing, send nothing

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def test_hung_server_costs_one_timeout_not_two(project):
    server = HungServer()
    try:
        h = Harness(project, mt.Script({ORCH: []}))
        _compatible(h, server.base_url, timeout=1.0)
        op = h.engine.run(QUESTION)
    finally:
        server.close()
    assert op.status == "failed" and "timed out before answering" in op.error
    assert len(server.accepted) == 1, "one request: no retry, no fallback to wait again"
    assert h.of("ModeChanged") == []
    assert_said_once(h, op)


def test_stalled_scripted_server_times_out_once(project):
    stall = {"fault": "stall", "stall_seconds": 30, "stall_before_headers": True, "repeat": True}
    script = mt.Script({"local-model": [stall]})
    with mt.ScriptedServer(script) as server:
        h = Harness(project, script)
        _compatible(h, server.base_url, timeout=1.0)
        op = h.engine.run(QUESTION)
    assert op.status == "failed" and "timed out" in op.error
    assert len(script.requests) == 1 and h.of("ModeChanged") == []


def test_cut_stream_over_real_http_is_kept_partial_in_simple_mode(project):
    cut = {"text": "Streaming over a socket until it drops", "fault": "cut", "after_chunks": 4}
    script = mt.Script({"local-model": [cut]})
    with mt.ScriptedServer(script) as server:
        h = Harness(project, script)
        _compatible(h, server.base_url)
        op = h.engine.run(QUESTION, RunOptions(mode="simple"))
    assert op.status == "failed" and "cut off" in op.error
    assert op.partial and op.text and len(script.requests) == 1


def test_a_hung_executor_ends_the_operation_after_one_timeout(project):
    server = HungServer()
    delegate = call("get_file_summary", paths=["README.md"])
    # left to itself, the orchestrator would delegate again and wait another full timeout
    script = mt.Script({ORCH: [plan_turn("Summarise"), delegate, delegate, "done", "Answer."]})
    try:
        h = Harness(project, script)
        h.engine.settings.executor_model = "compatible:local-executor"
        h.engine.settings.provider_settings = {"compatible_base_url": server.base_url}
        h.engine.settings.request_timeout = 1.0
        op = h.engine.run("summarise the readme", RunOptions(mode="planned"))
    finally:
        server.close()
    assert op.status == "failed" and "timed out before answering" in op.error
    assert len(server.accepted) == 1
    assert_said_once(h, op)
