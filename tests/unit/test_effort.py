"""Reasoning effort normalisation and per-model capabilities."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.llm.capabilities import capabilities_for, normalize_effort


@pytest.mark.parametrize("level", ["minimal", "low", "medium", "high"])
def test_every_level_maps_to_itself(level):
    # the original project turned "low" into "medium"; a level must never change
    assert normalize_effort(level) == level
    assert normalize_effort(level.upper()) == level
    assert normalize_effort(f"  {level.title()} ") == level


def test_low_is_never_raised():
    assert normalize_effort("low") == "low"
    assert normalize_effort("LOW") == "low"
    assert all(normalize_effort(w) == "low" for w in ("quick", "fast", "light", "Quick"))


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("normal", "medium"), ("default", "medium"), ("balanced", "medium"),
        ("thorough", "high"), ("deep", "high"), ("hard", "high"), ("MAX", "high"),
    ],
)  # fmt: skip
def test_synonyms(word, level):
    assert normalize_effort(word) == level


@pytest.mark.parametrize("bad", ["", "none", "extreme", "lowest", "5", "hi gh"])
def test_unknown_words_are_refused(bad):
    with pytest.raises(ValueError, match="use minimal, low, medium or high"):
        normalize_effort(bad)


def test_non_string_refused():
    with pytest.raises(ValueError):
        normalize_effort(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model_id", "supported"),
    [
        ("openai:gpt-5", True), ("openai:gpt-5-mini", True), ("openai:gpt-5-nano", True),
        ("openai:gpt-5.1", True), ("openai:o3", True), ("openai:o4-mini", True),
        ("scripted:gpt-5", True), ("openrouter:openai/gpt-5", True),
        ("deepseek:deepseek-chat", False), ("deepseek:deepseek-reasoner", False),
        ("openai:gpt-4o", False), ("openai:gpt-4o-mini", False), ("openai:gpt-4.1", False),
        ("openai:gpt-5-chat-latest", False), ("ollama:llama3.2", False),
    ],
)  # fmt: skip
def test_reasoning_effort_support(model_id, supported, monkeypatch):
    monkeypatch.delenv("MIRA_MODELS_FILE", raising=False)
    assert capabilities_for(model_id).supports_reasoning_effort is supported


def test_max_output_tokens(monkeypatch):
    monkeypatch.delenv("MIRA_MODELS_FILE", raising=False)
    assert capabilities_for("openai:gpt-5").max_output_tokens == 128000
    assert capabilities_for("deepseek:deepseek-chat").max_output_tokens == 8192
    assert capabilities_for("ollama:mystery").max_output_tokens is None


def test_user_models_file_overrides(tmp_path, monkeypatch):
    models = tmp_path / "models.json"
    models.write_text(
        json.dumps(
            {
                "models": {
                    "qwen3*": {"supports_reasoning_effort": True, "max_output_tokens": 32768},
                    "deepseek-chat": {"max_output_tokens": 4096},
                }
            }
        )
    )
    monkeypatch.setenv("MIRA_MODELS_FILE", str(models))
    assert capabilities_for("vllm:qwen3-32b").supports_reasoning_effort is True
    chat = capabilities_for("deepseek:deepseek-chat")
    assert chat.max_output_tokens == 4096 and chat.supports_reasoning_effort is False


@pytest.mark.parametrize(
    ("model_id", "word", "sent"),
    [
        # GPT-5 takes minimal natively (issue 14: it used to be refused)
        ("openai:gpt-5", "minimal", "minimal"), ("openai:gpt-5-mini", "Minimal", "minimal"),
        ("scripted:gpt-5", "minimal", "minimal"),
        # elsewhere minimal is the lowest level the model has
        ("openai:gpt-5.1", "minimal", "low"), ("openai:o3", "minimal", "low"),
        # gpt-5-codex has no minimal; gpt-5-pro takes only high (OpenAI's API refuses the others)
        ("openai:gpt-5-codex", "minimal", "low"), ("openai:gpt-5-codex", "medium", "medium"),
        ("openai:gpt-5-pro", "minimal", "high"), ("openai:gpt-5-pro", "low", "high"),
        ("openai:gpt-5-pro-2025-10-06", "medium", "high"), ("openai:gpt-5-mini", "minimal", "minimal"),
        ("openai:gpt-5", "deep", "high"), ("openai:o4-mini", "quick", "low"),
        # a model without reasoning effort is sent none, whatever the word
        ("deepseek:deepseek-chat", "minimal", None), ("deepseek:deepseek-chat", "high", None),
        ("openai:gpt-5", None, None),
    ],
)  # fmt: skip
def test_the_effort_sent(model_id, word, sent, monkeypatch):
    monkeypatch.delenv("MIRA_MODELS_FILE", raising=False)
    assert capabilities_for(model_id).effort_to_send(word) == sent


def test_a_bad_word_is_refused_even_for_a_model_without_effort(monkeypatch):
    monkeypatch.delenv("MIRA_MODELS_FILE", raising=False)
    with pytest.raises(ValueError, match="unknown reasoning effort 'zzz'"):
        capabilities_for("deepseek:deepseek-chat").effort_to_send("zzz")


def test_a_models_file_can_list_efforts(tmp_path, monkeypatch):
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"models": {"qwen3*": {"supports_reasoning_effort": True, "efforts": ["minimal", "low"]}}}))
    monkeypatch.setenv("MIRA_MODELS_FILE", str(models))
    assert capabilities_for("vllm:qwen3-8b").effort_to_send("minimal") == "minimal"
    assert capabilities_for("vllm:qwen3-8b").effort_to_send("high") == "low"  # the highest it has
    models.write_text(json.dumps({"models": {"qwen3*": {"supports_reasoning_effort": True, "efforts": ["tiny"]}}}))
    with pytest.raises(ValueError, match="tiny"):
        capabilities_for("vllm:qwen3-8b")
