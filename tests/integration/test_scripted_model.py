"""The scripted model itself: scripts, the `scripted` provider, the server process, JSON mode."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import openai
import pytest

from mira_jupyter.llm.pricing import cost_of
from mira_jupyter.llm.providers import build_chat_model
from mira_jupyter.llm.types import BadResponseError
from mira_jupyter.testing import (
    Script,
    ScriptedServer,
    Turn,
    current_script,
    scripted_http_client,
    use_script,
)

USER = [{"role": "user", "content": "What does loader.py do?"}]


@pytest.fixture(autouse=True)
def _reset_active_script(monkeypatch):
    monkeypatch.delenv("MIRA_SCRIPT", raising=False)
    use_script(None)
    yield
    use_script(None)


def test_scripted_provider_uses_the_installed_script():
    script = use_script(
        {
            "models": {
                "gpt-5": [{"text": "orchestrator says hi", "expect": {"reasoning_effort": "high"}}],
                "deepseek-chat": [{"text": "executor says hi"}],
            }
        }
    )
    orchestrator = build_chat_model("scripted:gpt-5")
    executor = build_chat_model("scripted:deepseek-chat")
    assert executor.chat(USER).text == "executor says hi"  # queues are independent
    response = orchestrator.chat(USER, reasoning_effort="high")
    assert response.text == "orchestrator says hi"
    script.assert_clean()
    cost = cost_of(response.usage, orchestrator.model_id)
    assert cost.priced and cost.total_usd > 0  # priced as gpt-5


def test_script_installed_after_the_model_was_built():
    model = build_chat_model("scripted:gpt-5")
    use_script(Script({"gpt-5": ["late script"]}))
    assert model.chat(USER).text == "late script"


def test_demo_script_is_the_default_and_never_runs_out():
    model = build_chat_model("scripted:gpt-5")
    tools = [{"type": "function", "function": {"name": "list_project_files", "parameters": {}}}]
    answers = [model.chat(USER).text for _ in range(3)]
    assert all("demo model" in a for a in answers)
    call = model.chat(USER, tools=tools).tool_calls[0]
    assert call.name == "list_project_files" and call.parse_error is None
    after_tool = USER + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}
        ]},
        {"role": "tool", "tool_call_id": call.id, "content": "loader.py\nmain.py"},
    ]  # fmt: skip
    assert "loader.py" in model.chat(after_tool, tools=tools).text
    plan = model.chat([{"role": "system", "content": "Write a numbered plan."}] + USER).text
    assert plan.startswith("1. ")
    assert current_script().name == "demo"


def test_script_from_env_var_path(tmp_path, monkeypatch):
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"turns": ["from a file"]}))
    monkeypatch.setenv("MIRA_SCRIPT", str(path))
    assert build_chat_model("scripted:anything").chat(USER).text == "from a file"


def test_responder_gets_the_parsed_request():
    seen = []

    def responder(request):
        seen.append((request.model, request.tool_names))
        return {"text": f"you asked {request.model}"} if request.model == "dyn" else None

    script = use_script(Script({"gpt-5": ["queued"]}, responder=responder))
    assert build_chat_model("scripted:dyn").chat(USER).text == "you asked dyn"
    assert build_chat_model("scripted:gpt-5").chat(USER).text == "queued"  # None: fall back
    assert seen == [("dyn", []), ("gpt-5", [])] and len(script.requests) == 2


def test_non_streaming_json_through_the_sdk():
    script = Script(
        {
            "gpt-5": [
                {"text": "plain", "cached_tokens": 3},
                {"tool_calls": [{"name": "f", "arguments": {"a": 1}}]},
            ]
        }
    )
    client = openai.OpenAI(
        api_key="k", base_url="http://x/v1", http_client=scripted_http_client(script)
    )
    first = client.chat.completions.create(model="gpt-5", messages=USER)
    assert first.object == "chat.completion" and first.choices[0].message.content == "plain"
    assert first.usage.prompt_tokens_details.cached_tokens == 3
    assert first.choices[0].finish_reason == "stop"
    second = client.chat.completions.create(model="gpt-5", messages=USER)
    call = second.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"a": 1}
    assert second.choices[0].finish_reason == "tool_calls"


def test_stream_without_include_usage_has_no_usage_chunk():
    script = Script({"gpt-5": ["no usage asked"]})
    client = openai.OpenAI(
        api_key="k", base_url="http://x/v1", http_client=scripted_http_client(script)
    )
    chunks = list(client.chat.completions.create(model="gpt-5", messages=USER, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_models_endpoint_and_unknown_route():
    with ScriptedServer(Script({"gpt-5": [], "deepseek-chat": []})) as server:
        listed = httpx.get(f"{server.base_url}/models").json()
        assert {m["id"] for m in listed["data"]} == {"gpt-5", "deepseek-chat"}
        assert httpx.get(f"{server.url}/nowhere").status_code == 404


def test_script_validation_errors():
    with pytest.raises(ValueError, match="unknown fault"):
        Turn(fault="meteor")
    with pytest.raises(ValueError, match="unknown expect key"):
        Turn(expect={"temperature": 1})
    with pytest.raises(ValueError, match="unknown turn keys"):
        Script({"gpt-5": [{"txt": "typo"}]})
    with pytest.raises(ValueError, match="unknown script keys"):
        Script.from_dict({"model": {}})
    with pytest.raises(ValueError, match="needs a 'name'"):
        Turn(tool_calls=[{"arguments": {}}])


def test_server_process_prints_its_url(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"models": {"gpt-5": ["served from a process"]}}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mira_jupyter.testing.server", "--script", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(api_key="k", base_url=base_url, max_retries=0)
        reply = client.chat.completions.create(model="gpt-5", messages=USER)
        assert reply.choices[0].message.content == "served from a process"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_server_process_rejects_a_bad_script(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mira_jupyter.testing.server",
            "--script",
            str(tmp_path / "nope.json"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "not found" in result.stderr


def test_documented_script_example_is_valid():
    import mira_jupyter.testing.script as script_module

    example = script_module.__doc__.split("::", 1)[1].split("Each request")[0]
    script = Script.from_dict(json.loads(example))
    assert script.remaining("gpt-5") == 3 and script.remaining("*") == 1


def test_a_failing_responder_is_reported_not_disguised():
    def responder(request):
        raise RuntimeError("bug in the test")

    script = use_script(Script(responder=responder))
    with pytest.raises(BadResponseError, match="responder raised RuntimeError"):
        build_chat_model("scripted:gpt-5").chat(USER)
    assert "bug in the test" in script.mismatches[0] and len(script.requests) == 1
