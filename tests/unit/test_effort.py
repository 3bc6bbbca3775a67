"""Reasoning effort normalisation and per-model capabilities."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.llm.capabilities import capabilities_for, normalize_effort


@pytest.mark.parametrize("level", ["low", "medium", "high"])
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


@pytest.mark.parametrize("bad", ["", "minimal", "extreme", "lowest", "5", "hi gh"])
def test_unknown_words_are_refused(bad):
    with pytest.raises(ValueError, match="use low, medium or high"):
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
