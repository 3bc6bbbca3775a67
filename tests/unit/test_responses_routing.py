"""Which API a model is called over, and the settings that choose it."""

from __future__ import annotations

import pytest
from traitlets import TraitError

import mira_jupyter.testing  # noqa: F401 - registers the scripted provider
from mira_jupyter.config import Mira
from mira_jupyter.llm.client import OpenAICompatibleModel
from mira_jupyter.llm.providers import build_chat_model, resolve_base_url, uses_responses_api
from mira_jupyter.llm.responses import OpenAIResponsesModel


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("MIRA_RESPONSES_API", "MIRA_RESPONSES_STORE", "MIRA_REASONING_SUMMARY", "MIRA_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("openai:gpt-5", True),
        ("openai:gpt-5-mini", True),
        ("openai:gpt-5.1", True),
        ("openai:o3", True),
        ("openai:o4-mini", True),
        ("openai:gpt-5-chat-latest", False),  # the chat variant has no reasoning to carry
        ("openai:gpt-4.1", False),
        ("openai:gpt-4o-2024-08-06", False),
        ("openrouter:openai/gpt-5", False),  # only the openai provider follows the table
        ("deepseek:deepseek-reasoner", False),
        ("scripted:gpt-5", False),
        ("openai-responses:gpt-4.1", True),  # the prefix always does
    ],
)
def test_default_routing_follows_the_capability_table(model_id, expected):
    assert uses_responses_api(model_id) is expected


def test_the_setting_forces_or_forbids_it():
    assert uses_responses_api("scripted:gpt-5", {"responses_api": True})
    assert uses_responses_api("compatible:m", {"responses_api": True})
    assert not uses_responses_api("deepseek:deepseek-chat", {"responses_api": True})  # has none
    assert not uses_responses_api("openai:gpt-5", {"responses_api": False})
    assert uses_responses_api("openai-responses:gpt-5", {"responses_api": False})  # explicit prefix
    listed = {"responses_api": ["ollama:qwen3"]}
    assert uses_responses_api("ollama:qwen3", listed) and not uses_responses_api("openai:gpt-5", listed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["gpt-5"], "has no provider"),
        (["nope:gpt-5"], "unknown provider"),
        (["deepseek:deepseek-chat"], "has no Responses API"),
        (3, "must be True, False, None"),
    ],
)
def test_bad_settings_are_clear_errors(value, message):
    with pytest.raises(ValueError, match=message):
        uses_responses_api("deepseek:deepseek-chat", {"responses_api": value})


def test_environment_words(monkeypatch):
    monkeypatch.setenv("MIRA_RESPONSES_API", "false")
    assert not uses_responses_api("openai:gpt-5")
    monkeypatch.setenv("MIRA_RESPONSES_API", "scripted:gpt-5, ollama:x")
    assert uses_responses_api("scripted:gpt-5") and uses_responses_api("ollama:x")
    monkeypatch.setenv("MIRA_RESPONSES_API", "auto")
    assert uses_responses_api("openai:gpt-5")


def test_factory_builds_the_right_client(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
    assert type(build_chat_model("openai:gpt-5")) is OpenAIResponsesModel
    assert type(build_chat_model("openai:gpt-4.1")) is OpenAICompatibleModel
    model = build_chat_model(
        "openai-responses:gpt-5", settings={"responses_store": True, "reasoning_summary": "detailed"}
    )
    assert isinstance(model, OpenAIResponsesModel) and model.store and model.reasoning_summary == "detailed"
    assert model.key_env == "OPENAI_API_KEY" and model.model_id == "openai-responses:gpt-5"
    with pytest.raises(ValueError, match="reasoning_summary must be one of"):
        build_chat_model("openai:gpt-5", settings={"reasoning_summary": "loud"})
    with pytest.raises(ValueError, match="responses_store must be true or false"):
        build_chat_model("openai:gpt-5", settings={"responses_store": "maybe"})


def test_openai_responses_shares_the_openai_base_url(monkeypatch):
    monkeypatch.setenv("MIRA_OPENAI_BASE_URL", "http://proxy.local/v1")
    assert resolve_base_url("openai-responses") == "http://proxy.local/v1"
    assert resolve_base_url("openai-responses", {"openai_base_url": "http://other/v1"}) == "http://other/v1"


def test_mira_config_traits(monkeypatch):
    mira = Mira()
    assert (mira.responses_api, mira.responses_store, mira.reasoning_summary) == (None, False, "auto")
    mira.responses_api = ["openai:gpt-5"]
    mira.responses_store = True
    providers = mira.engine_settings().provider_settings
    assert providers["responses_api"] == ["openai:gpt-5"] and providers["responses_store"] is True
    with pytest.raises(TraitError):
        mira.reasoning_summary = "verbose"
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        mira.responses_api = ["nope:gpt-5"]
    assert mira.responses_api == ["openai:gpt-5"]  # the bad value was not kept
    monkeypatch.setenv("MIRA_RESPONSES_API", "1")
    monkeypatch.setenv("MIRA_RESPONSES_STORE", "yes")
    monkeypatch.setenv("MIRA_REASONING_SUMMARY", "none")
    from_env = Mira()
    assert (from_env.responses_api, from_env.responses_store, from_env.reasoning_summary) == (True, True, "none")
    monkeypatch.setenv("MIRA_RESPONSES_STORE", "perhaps")
    with pytest.raises(ValueError, match="MIRA_RESPONSES_STORE must be true or false"):
        Mira().responses_store  # noqa: B018 - the default is computed on first access
