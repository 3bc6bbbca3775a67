"""``%mira models``: providers and known models, prices, capabilities, whether keys are set."""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH
from IPython.core.interactiveshell import InteractiveShell

from mira_jupyter.llm.providers import PROVIDERS
from mira_jupyter.notebook.args import MiraUsageError

SECRET = "sk-proj-THIS-VALUE-MUST-NEVER-SHOW-0123456789"


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mira_jupyter")
    ip.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
    ip.run_line_magic("config", f'Mira.executor_model = "scripted:{EXEC}"')
    yield ip
    ip.run_line_magic("unload_ext", "mira_jupyter")
    InteractiveShell.clear_instance()


def test_every_provider_and_the_priced_models_with_prices_and_capabilities(shell, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    frame = shell.run_line_magic("mira", "models")
    assert list(frame.columns) == [
        "model", "provider", "input $/1M", "cached $/1M", "output $/1M", "reasoning", "tools", "key",
    ]  # fmt: skip
    assert set(frame["provider"]) == set(PROVIDERS)  # every registered provider, scripted too
    rows = frame.set_index("model")
    gpt5 = rows.loc["openai:gpt-5"]
    assert (gpt5["input $/1M"], gpt5["cached $/1M"], gpt5["output $/1M"]) == (1.25, 0.125, 10.0)
    assert (gpt5["reasoning"], gpt5["tools"], gpt5["key"]) == ("yes", "yes", "OPENAI_API_KEY set")
    chat = rows.loc["deepseek:deepseek-chat"]
    assert (chat["reasoning"], chat["key"]) == ("no", "DEEPSEEK_API_KEY not set")
    assert rows.loc["deepseek:deepseek-reasoner"]["reasoning"] == "yes"
    assert rows.loc["ollama:*"]["key"] == "no key needed"
    assert "openrouter:anthropic/claude-sonnet-4.5" in rows.index


def test_a_set_key_s_value_never_appears(shell, monkeypatch):
    for env in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "VLLM_API_KEY", "MIRA_COMPATIBLE_API_KEY"):
        monkeypatch.setenv(env, f"{SECRET}-{env}")
    frame = shell.run_line_magic("mira", "models")
    shown = frame.to_string() + frame._repr_html_() + frame.to_json() + repr(frame.attrs)
    assert SECRET not in shown and "sk-proj" not in shown
    assert set(frame.loc[frame["provider"] == "openai", "key"]) == {"OPENAI_API_KEY set"}


def test_provider_filter_and_an_unknown_provider(shell, capsys):
    frame = shell.run_line_magic("mira", "models --provider deepseek")
    assert set(frame["model"]) == {"deepseek:deepseek-chat", "deepseek:deepseek-reasoner"}
    with pytest.raises(MiraUsageError, match="no provider 'nope'; known providers: openai"):
        shell.run_line_magic("mira", "models --provider nope")


def test_a_model_the_capability_table_says_takes_no_tools(shell, monkeypatch, tmp_path):
    models_file = tmp_path / "models.json"
    models_file.write_text('{"models": {"gpt-4o-mini": {"tools": false}}}')
    monkeypatch.setenv("MIRA_MODELS_FILE", str(models_file))
    rows = shell.run_line_magic("mira", "models --provider openai").set_index("model")
    assert rows.loc["openai:gpt-4o-mini"]["tools"] == "no"
    assert rows.loc["openai:gpt-4o"]["tools"] == "yes"
