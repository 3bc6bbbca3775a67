"""Model ids, provider settings, key status and the model factory (no network)."""

from __future__ import annotations

import pytest

from mira_jupyter.llm.errors import redact
from mira_jupyter.llm.providers import (
    PROVIDERS,
    build_chat_model,
    key_status,
    model_name_candidates,
    redact_url,
    resolve_base_url,
    split_model_id,
)
from mira_jupyter.llm.types import EndpointUnreachableError, MissingKeyError

SECRET = "sk-proj-SECRETabcdef0123456789wxyz"


def test_split_model_id():
    assert split_model_id("openai:gpt-5") == ("openai", "gpt-5")
    assert split_model_id("ollama:llama3.1:8b") == ("ollama", "llama3.1:8b")
    assert split_model_id(" DeepSeek:deepseek-chat ") == ("deepseek", "deepseek-chat")
    assert split_model_id("openrouter:openai/gpt-5") == ("openrouter", "openai/gpt-5")


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("gpt-5", "no provider"),
        ("", "empty"),
        ("nosuch:gpt-5", "unknown provider"),
        ("openai:", "no valid model"),
        ("openai:gpt 5", "no valid model"),
    ],
)
def test_malformed_ids_are_clear(bad, hint):
    with pytest.raises(ValueError, match=hint):
        split_model_id(bad)


def test_name_candidates_most_specific_first():
    assert model_name_candidates("scripted:gpt-5") == ["scripted:gpt-5", "scripted/gpt-5", "gpt-5"]
    assert model_name_candidates("openrouter:openai/gpt-5")[-1] == "gpt-5"
    assert model_name_candidates("openai:gpt-4o-2024-08-06")[-1] == "gpt-4o"


def test_base_url_overrides(monkeypatch):
    monkeypatch.delenv("MIRA_OPENAI_BASE_URL", raising=False)
    assert resolve_base_url("openai") == "https://api.openai.com/v1"
    monkeypatch.setenv("MIRA_OPENAI_BASE_URL", "http://proxy:9000/v1")
    assert resolve_base_url("openai") == "http://proxy:9000/v1"
    assert resolve_base_url("openai", {"openai_base_url": "http://cfg/v1"}) == "http://cfg/v1"
    assert resolve_base_url("ollama") == "http://localhost:11434/v1"
    assert resolve_base_url("deepseek") == "https://api.deepseek.com"


def test_key_status_reports_presence_never_values(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    status = key_status()
    assert status["openai"].is_set and status["openai"].env_var == "OPENAI_API_KEY"
    assert not status["deepseek"].is_set and status["deepseek"].required
    assert not status["ollama"].required and status["ollama"].env_var is None
    assert set(status) == set(PROVIDERS)
    assert SECRET not in repr(status) and SECRET[8:20] not in repr(status)


def test_compatible_provider_needs_a_base_url(monkeypatch):
    monkeypatch.delenv("MIRA_COMPATIBLE_BASE_URL", raising=False)
    with pytest.raises(EndpointUnreachableError, match="MIRA_COMPATIBLE_BASE_URL"):
        build_chat_model("compatible:my-model")
    monkeypatch.setenv("MIRA_COMPATIBLE_BASE_URL", "http://127.0.0.1:9/v1")
    model = build_chat_model("compatible:my-model", settings={"compatible_api_key_env": "MY_KEY"})
    assert model.key_env == "MY_KEY" and model.base_url == "http://127.0.0.1:9/v1"


def test_missing_key_error_names_env_var_and_getpass(monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    model = build_chat_model("deepseek:deepseek-chat")  # building needs no key
    with pytest.raises(MissingKeyError) as info:
        model.chat([{"role": "user", "content": "hi"}])
    message = str(info.value)
    assert "DEEPSEEK_API_KEY" in message and "getpass.getpass()" in message
    assert "\n" not in message


def test_repr_never_shows_key_or_url_credentials(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MIRA_OPENAI_BASE_URL", "https://user:hunter2@proxy.example/v1")
    model = build_chat_model("openai:gpt-5")
    assert SECRET not in repr(model) and "hunter2" not in repr(model)
    assert redact_url("https://u:p@h:8443/v1") == "https://h:8443/v1"


def test_invalid_timeout_setting(monkeypatch):
    with pytest.raises(ValueError, match="request_timeout"):
        build_chat_model("ollama:llama3", settings={"request_timeout": "soon"})


def test_redact_removes_key_and_fragments():
    text = f"Incorrect API key provided: {SECRET[:8]}***{SECRET[-4:]} and full {SECRET} Bearer abc"
    cleaned = redact(text, (SECRET,))
    assert SECRET not in cleaned and SECRET[:8] not in cleaned
    assert "abc" not in cleaned
    assert "\n" not in redact("a\nb", ())


# -- the provider registry -------------------------------------------------------------------


@pytest.fixture
def registry(monkeypatch):
    """PROVIDERS as it is, restored after the test."""
    monkeypatch.setattr("mira_jupyter.llm.providers.PROVIDERS", dict(PROVIDERS))
    from mira_jupyter.llm import providers

    return providers


def test_a_registered_provider_is_usable_and_its_client_string_loads_lazily(registry, monkeypatch):
    import types

    calls = []
    module = types.ModuleType("mira_fake_transport")
    module.make_client = lambda: calls.append("built") or None
    monkeypatch.setitem(__import__("sys").modules, "mira_fake_transport", module)
    spec = registry.ProviderSpec(
        "acme", "http://acme.invalid/v1", None, False, http_client="mira_fake_transport:make_client"
    )
    registry.register_provider(spec)
    assert registry.split_model_id("acme:m-1") == ("acme", "m-1")
    assert calls == []  # registering imports nothing
    model = registry.build_chat_model("acme:m-1")
    assert calls == ["built"] and model.model_id == "acme:m-1"
    assert "acme" in registry.key_status()


def test_registering_twice_is_a_no_op_but_a_different_spec_needs_replace(registry):
    spec = registry.ProviderSpec("acme", "http://a.invalid/v1", None, False)
    registry.register_provider(spec)
    registry.register_provider(spec)
    other = registry.ProviderSpec("acme", "http://b.invalid/v1", None, False)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_provider(other)
    registry.register_provider(other, replace=True)
    assert registry.resolve_base_url("acme") == "http://b.invalid/v1"


@pytest.mark.parametrize("name", ["", "Acme", "a:b", "a b", "1abc"])
def test_a_provider_name_that_cannot_be_written_in_a_model_id_is_refused(registry, name):
    with pytest.raises(ValueError, match="provider name"):
        registry.register_provider(registry.ProviderSpec(name, None, None, False))


def test_scripted_is_registered_by_the_testing_package_not_by_production_code():
    import subprocess
    import sys

    code = (
        "import sys; from mira_jupyter.llm import providers as p\n"
        "assert 'scripted' not in p.PROVIDERS, sorted(p.PROVIDERS)\n"
        "import mira_jupyter.testing\n"
        "assert 'scripted' in p.PROVIDERS\n"
        "assert 'httpx' not in sys.modules, 'registering must not import the transport'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
