"""Every model call carries an output cap; a call that hits it says so and marks the answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm.capabilities import (
    PHASE_OUTPUT_TOKENS,
    REASONING_OUTPUT_TOKENS,
    output_token_cap,
    phase_of,
)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    (tmp_path / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return tmp_path


def _cap(request) -> int | None:
    body = request.body
    return body.get("max_completion_tokens", body.get("max_tokens"))


def test_every_call_of_a_planned_operation_sends_its_phase_cap(project):
    script = mt.Script(
        {
            ORCH: [plan_turn("Read"), call("get_file_summary", paths=["loader.py"]), "read", "Done."],
            EXEC: ["It reads a file."],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("read loader.py", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    purposes = [e.purpose for e in h.of("LLMCallStarted")]
    assert purposes == ["plan", "orchestrate", "delegate:get_file_summary", "orchestrate", "compose"]
    sent = [_cap(r) for r in script.requests]
    assert all(isinstance(cap, int) and cap > 0 for cap in sent), sent
    # gpt-5 reasons (its allowance is added, by effort); deepseek-chat is capped by its 8,192
    assert sent == [
        PHASE_OUTPUT_TOKENS["plan"] + REASONING_OUTPUT_TOKENS["high"],
        PHASE_OUTPUT_TOKENS["orchestrate"] + REASONING_OUTPUT_TOKENS["medium"],
        8_192,
        PHASE_OUTPUT_TOKENS["orchestrate"] + REASONING_OUTPUT_TOKENS["medium"],
        PHASE_OUTPUT_TOKENS["compose"] + REASONING_OUTPUT_TOKENS["medium"],
    ]
    # the scripted provider speaks like OpenAI: the reasoning-model parameter, not max_tokens
    assert all("max_tokens" not in r.body for r in script.requests)


def test_an_unpriced_local_model_is_capped_too_with_max_tokens(project):
    script = mt.Script({"local-model": ["It loads CSV files."]})
    with mt.ScriptedServer(script) as server:
        h = Harness(project, script)
        h.engine.settings.orchestrator_model = "compatible:local-model"
        h.engine.settings.provider_settings = {"compatible_base_url": server.base_url}
        op = h.engine.run("what does this project do?", RunOptions(mode="simple"))
    assert op.status == "completed", op.error
    (request,) = script.requests
    assert request.body["max_tokens"] == PHASE_OUTPUT_TOKENS["simple"]
    assert "max_completion_tokens" not in request.body


def test_the_configured_cap_applies_to_every_call_within_the_model_limit(project):
    script = mt.Script(
        {
            ORCH: [plan_turn("Read"), call("get_file_summary", paths=["loader.py"]), "read", "Done."],
            EXEC: ["It reads a file."],
        }
    )
    h = Harness(project, script, max_output_tokens=20_000)
    h.engine.run("read loader.py", RunOptions(mode="planned"))
    assert [_cap(r) for r in script.requests] == [20_000, 20_000, 8_192, 20_000, 20_000]


def test_a_budget_lowers_the_cap_and_never_raises_it(project):
    script = mt.Script({ORCH: ["It loads CSV files."]})
    h = Harness(project, script)
    h.engine.run("what does this project do?", RunOptions(mode="simple", budget_usd=Decimal("0.045")))
    (request,) = script.requests
    # $0.045, less the prompt reserved at its bytes (the orchestrator's system prompt and tool
    # list ride on simple mode too), leaves room at gpt-5's $10/M output for ~3,300 tokens (a
    # low-effort call needs room for 3,072 before it is sent): the budget is the tighter cap
    assert 1_024 <= _cap(request) < PHASE_OUTPUT_TOKENS["simple"]
    script = mt.Script({ORCH: ["It loads CSV files."]})
    h = Harness(project, script)
    h.engine.run("what does this project do?", RunOptions(mode="simple", budget_usd=Decimal("100")))
    assert _cap(script.requests[0]) == PHASE_OUTPUT_TOKENS["simple"] + REASONING_OUTPUT_TOKENS["low"]


def test_a_length_finish_is_a_warning_and_the_answer_is_marked_truncated(project):
    cap = PHASE_OUTPUT_TOKENS["simple"] + REASONING_OUTPUT_TOKENS["low"]
    # a server that cuts at max_tokens reports max_tokens output tokens
    cut = {"text": "The loader reads the file and then it reads the", "finish_reason": "length",
           "usage": {"output": cap}}  # fmt: skip
    script = mt.Script({ORCH: [cut]})
    h = Harness(project, script)
    op = h.engine.run("what does this project do?", RunOptions(mode="simple"))
    assert op.status == "completed"
    assert op.text == cut["text"] and op.truncated and not op.partial
    (notice,) = h.of("Notice")
    assert notice.level == "warning"
    assert f"output cap of {cap:,} tokens; the answer is truncated" in notice.message
    assert h.of("OperationFinished")[0].result_truncated
    assert "answer truncated at the output cap" in op.summary_line()


@pytest.mark.parametrize("mode", ["simple", "planned"])
def test_a_content_filter_finish_is_a_warning_and_the_answer_is_marked_truncated(project, capsys, mode):
    # what OpenAI and Azure send when their filter cuts an answer: it ended "completed" in silence
    from mira_jupyter.ui.text import TextView

    cut = {"text": "Here is the first half of the", "finish_reason": "content_filter"}
    turns = [cut] if mode == "simple" else [plan_turn("Look"), "Looked.", cut]
    h = Harness(project, mt.Script({ORCH: turns}))
    h.bus.subscribe(TextView())
    op = h.engine.run("what does this project do?", RunOptions(mode=mode))
    assert op.status == "completed" and op.text == cut["text"]
    assert op.truncated and op.truncated_by == "content_filter" and not op.partial
    (notice,) = [n for n in h.of("Notice") if "content filter" in n.message]
    assert notice.level == "warning" and "the answer is truncated" in notice.message
    finished = h.of("OperationFinished")[0]
    assert finished.result_truncated and finished.result_cut_by == "content_filter"
    assert "answer truncated by the provider's content filter" in op.summary_line()
    out = capsys.readouterr().out
    assert "answer truncated by the provider's content filter" in out and "output cap" not in out


def test_a_length_finish_far_below_the_cap_names_the_context_window_not_the_cap(project):
    # llama.cpp ends with `length` when its context window fills, after a few output tokens:
    # pointing the user at Mira.max_output_tokens would send them to the wrong setting
    cut = {"text": "The", "finish_reason": "length", "usage": {"output": 5}}
    h = Harness(project, mt.Script({ORCH: [cut]}))
    op = h.engine.run("what does this project do?", RunOptions(mode="simple"))
    assert op.truncated
    (notice,) = h.of("Notice")
    assert "stopped after 5 output tokens, far below its output cap" in notice.message
    assert "context window is probably full" in notice.message
    assert "Mira.max_output_tokens" not in notice.message


def test_a_length_finish_inside_a_task_warns_but_does_not_mark_the_answer(project):
    script = mt.Script(
        {ORCH: [plan_turn("Look"), {"text": "a long note", "finish_reason": "length",
                                    "usage": {"output": 20_480}}, "Done."]}
    )
    h = Harness(project, script)
    op = h.engine.run("look at it", RunOptions(mode="planned"))
    assert op.status == "completed" and not op.truncated
    (notice,) = h.of("Notice")
    assert "orchestrator call (orchestrate) stopped at its output cap" in notice.message
    assert "truncated" not in notice.message


def test_the_truncation_shows_in_the_text_view(project, capsys):
    from mira_jupyter.ui.text import TextView

    script = mt.Script({ORCH: [{"text": "cut mid", "finish_reason": "length", "usage": {"output": 1_000_000}}]})
    h = Harness(project, script)
    view = TextView()
    h.bus.subscribe(view)
    h.engine.run("what does this project do?", RunOptions(mode="simple"))
    out = capsys.readouterr().out
    assert "stopped at its output cap" in out
    assert "— completed" in out and "answer truncated at the output cap" in out


@pytest.mark.parametrize(
    ("purpose", "phase"),
    [
        ("plan", "plan"),
        ("simple", "simple"),
        ("compose", "compose"),
        ("orchestrate", "orchestrate"),
        ("delegate:generate_code", "executor"),
        ("skill:testing", "skill"),
        ("something-new", "orchestrate"),
    ],
)
def test_phases(purpose, phase):
    assert phase_of(purpose) == phase


def test_output_token_cap_follows_the_capability_table():
    assert output_token_cap("deepseek:deepseek-chat", "delegate:x") == 8_192
    assert output_token_cap("deepseek:deepseek-chat", "plan") == PHASE_OUTPUT_TOKENS["plan"]
    # hidden reasoning counts as output: room for it, by effort
    assert output_token_cap("openai:gpt-5", "compose", reasoning_effort="high") == (
        PHASE_OUTPUT_TOKENS["compose"] + REASONING_OUTPUT_TOKENS["high"]
    )
    assert output_token_cap("deepseek:deepseek-reasoner", "simple") == (
        PHASE_OUTPUT_TOKENS["simple"] + REASONING_OUTPUT_TOKENS["medium"]
    )
    assert output_token_cap("ollama:mystery", "compose") == PHASE_OUTPUT_TOKENS["compose"]
    # a configured cap replaces the defaults, but never passes the model's own limit
    assert output_token_cap("openai:gpt-4o", "compose", configured=100_000) == 16_384
    assert output_token_cap("ollama:mystery", "compose", configured=300) == 300


def test_output_token_cap_reads_a_user_models_file(tmp_path, monkeypatch):
    models = tmp_path / "models.json"
    models.write_text('{"models": {"tiny-*": {"max_output_tokens": 512}}}')
    monkeypatch.setenv("MIRA_MODELS_FILE", str(models))
    assert output_token_cap("vllm:tiny-llm", "delegate:generate_code") == 512


def test_mira_max_output_tokens_reaches_the_engine(monkeypatch):
    from mira_jupyter.config import Mira

    monkeypatch.setenv("MIRA_MAX_OUTPUT_TOKENS", "3000")
    config = Mira()
    assert config.engine_settings().max_output_tokens == 3000
    with pytest.raises(Exception, match="at least 1"):
        config.max_output_tokens = 0
