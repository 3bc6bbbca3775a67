"""Model ids (``provider:model``), the provider registry, and the ChatModel factory.

Providers are registered, not special-cased: the built-ins are listed as `ProviderSpec`s
below, and anything else (``mira_jupyter.testing`` registers ``scripted``) calls
`register_provider`. A spec may name its default HTTP client as a ``"module:function"``
string, imported only when a model of that provider is built. This module imports neither
openai nor httpx; the client is imported when a model is built.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# public here since before they moved to _names
from ._names import model_name_candidates as model_name_candidates
from ._names import redact_url as redact_url

if TYPE_CHECKING:
    import httpx

    from .types import ChatModel


@dataclass(frozen=True)
class ProviderSpec:
    """How to reach one OpenAI-compatible provider."""

    name: str
    base_url: str | None  # None: must come from settings / environment
    key_env: str | None  # env var holding the API key; None: no key
    key_required: bool
    # OpenAI's reasoning models reject `max_tokens` and want `max_completion_tokens`
    max_tokens_param: str = "max_tokens"
    # the httpx.Client to use when none is passed: a factory, or "module:function" to import
    http_client: str | Callable[[], httpx.Client] | None = None
    # whether the endpoint serves /v1/responses (Mira.responses_api may send models there)
    has_responses_api: bool = True
    # "responses": every model of this provider goes over the Responses API
    api: str = "auto"
    # another provider whose base-URL settings this one shares (openai-responses -> openai)
    settings_as: str | None = None

    @property
    def base_url_env(self) -> str:
        """The env var that overrides the base URL, e.g. ``MIRA_OPENAI_BASE_URL``."""
        return f"MIRA_{(self.settings_as or self.name).upper().replace('-', '_')}_BASE_URL"


_BUILTIN_PROVIDERS = (
    ProviderSpec(
        "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True, "max_completion_tokens"
    ),
    ProviderSpec(
        "openai-responses",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        True,
        "max_output_tokens",
        api="responses",
        settings_as="openai",
    ),
    ProviderSpec(
        "deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY", True, has_responses_api=False
    ),
    ProviderSpec(
        "openrouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        True,
        "max_completion_tokens",
    ),
    ProviderSpec("ollama", "http://localhost:11434/v1", None, False),
    ProviderSpec("vllm", "http://localhost:8000/v1", "VLLM_API_KEY", False),
    ProviderSpec("lmstudio", "http://localhost:1234/v1", None, False),
    ProviderSpec("compatible", None, "MIRA_COMPATIBLE_API_KEY", False),
)

# the registry: name -> spec, in registration order (built-ins first)
PROVIDERS: dict[str, ProviderSpec] = {spec.name: spec for spec in _BUILTIN_PROVIDERS}

_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def register_provider(spec: ProviderSpec, *, replace: bool = False) -> ProviderSpec:
    """Make ``spec.name:model`` ids usable; registering the same spec again is a no-op.

    A different spec under a registered name is refused unless `replace` is true.
    """
    if not _PROVIDER_NAME.match(spec.name):
        raise ValueError(f"provider name must be lowercase letters, digits, '-' or '_', got {spec.name!r}")
    current = PROVIDERS.get(spec.name)
    if current is not None and current != spec and not replace:
        raise ValueError(f"provider {spec.name!r} is already registered; pass replace=True to change it")
    PROVIDERS[spec.name] = spec
    return spec


def _default_http_client(spec: ProviderSpec) -> httpx.Client | None:
    factory = spec.http_client
    if isinstance(factory, str):
        import importlib

        module, _, name = factory.partition(":")
        factory = getattr(importlib.import_module(module), name)
    return factory() if factory is not None else None


_MODEL_RE = re.compile(r"^[^\s]+$")


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split ``provider:model`` (the model part may itself contain ``:``); ValueError if malformed."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError("model id is empty: use provider:model, e.g. 'openai:gpt-5'")
    provider, sep, model = model_id.strip().partition(":")
    known = ", ".join(sorted(PROVIDERS))
    if not sep:
        raise ValueError(
            f"model id {model_id!r} has no provider: use provider:model, e.g. 'openai:{model_id}' "
            f"(providers: {known})"
        )
    provider = provider.lower()
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} in {model_id!r}; known providers: {known}")
    if not model or not _MODEL_RE.match(model) or any(unicodedata.category(c)[0] == "C" for c in model):
        # control characters and lone surrogates (which cannot be sent as JSON) included
        raise ValueError(f"model id {model_id!r} has no valid model name after {provider!r}:")
    return provider, model


def _setting(settings: Any, name: str) -> Any:
    if settings is None:
        return None
    value = settings.get(name) if isinstance(settings, Mapping) else getattr(settings, name, None)
    return None if value in ("", None) else value


def resolve_base_url(provider: str, settings: Any = None) -> str | None:
    """Base URL for `provider`: settings ``<provider>_base_url``, then env, then default."""
    spec = PROVIDERS[provider]
    return (
        _setting(settings, f"{spec.settings_as or provider}_base_url")
        or os.environ.get(spec.base_url_env)
        or spec.base_url
    )


def resolve_key_env(provider: str, settings: Any = None) -> str | None:
    """Name of the env var that holds `provider`'s key (``compatible`` may rename it)."""
    spec = PROVIDERS[provider]
    if provider == "compatible":
        return _setting(settings, "compatible_api_key_env") or spec.key_env
    return spec.key_env


@dataclass(frozen=True)
class KeyStatus:
    """Whether a provider's key is present; never holds the key itself."""

    provider: str
    env_var: str | None
    required: bool
    is_set: bool


def key_status(settings: Any = None) -> dict[str, KeyStatus]:
    """Which provider keys are set in the environment (names and booleans only, no values)."""
    out = {}
    for name, spec in PROVIDERS.items():
        env_var = resolve_key_env(name, settings)
        out[name] = KeyStatus(
            provider=name,
            env_var=env_var,
            required=spec.key_required,
            is_set=bool(env_var and (os.environ.get(env_var) or "").strip()),
        )
    return out


def _float_setting(settings: Any, name: str, env: str, default: float) -> float:
    value = _setting(settings, name) or os.environ.get(env)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def _responses_setting(settings: Any) -> Any:
    if settings is None:
        value = None
    elif isinstance(settings, Mapping):
        value = settings.get("responses_api")
    else:
        value = getattr(settings, "responses_api", None)
    if value is None:
        value = os.environ.get("MIRA_RESPONSES_API")
    return parse_responses_setting(value)


def parse_responses_setting(value: Any) -> bool | set[str] | None:
    """``responses_api`` as True, False, None (auto) or a set of model ids; ValueError else.

    Strings (the environment) may be auto, true/false or a comma-separated list of ids.
    """
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("", "auto"):
            return None
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        ids = {str(v).strip() for v in value}
        for model_id in ids:
            split_model_id(model_id)  # a typo must not silently mean "not listed"
        return ids
    raise ValueError(
        f"responses_api must be True, False, None (auto) or a list of model ids, got {value!r}"
    )


def uses_responses_api(model_id: str, settings: Any = None) -> bool:
    """Whether `model_id` is called over the Responses API rather than Chat Completions.

    ``openai-responses:`` models always are; ``Mira.responses_api`` True sends every model
    whose provider serves it, a list sends the models named, False none; by default
    (None) the openai provider's models marked ``responses_api`` in the capability table
    (the GPT-5 family, the o-series) are.
    """
    from .capabilities import capabilities_for

    provider, model = split_model_id(model_id)
    spec = PROVIDERS[provider]
    if spec.api == "responses":
        return True
    choice = _responses_setting(settings)
    if isinstance(choice, set):
        if f"{provider}:{model}" in choice and not spec.has_responses_api:
            raise ValueError(f"responses_api names {provider}:{model}, but {provider} has no Responses API")
        return f"{provider}:{model}" in choice
    if choice is True:
        return spec.has_responses_api
    if choice is False:
        return False
    return provider == "openai" and capabilities_for(f"{provider}:{model}").responses_api


def parse_flag(value: Any, name: str) -> bool:
    """A boolean setting from a bool or a word (1/0, true/false, yes/no, on/off)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower()
    if word in ("", "0", "false", "no", "off"):
        return False
    if word in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _store_setting(settings: Any) -> bool:
    value = _setting(settings, "responses_store")
    if value is None:
        value = os.environ.get("MIRA_RESPONSES_STORE")
    return parse_flag(value, "responses_store")


def build_chat_model(
    model_id: str,
    *,
    settings: Any = None,
    http_client: httpx.Client | None = None,
) -> ChatModel:
    """Build the ChatModel for `model_id`; the API key is read from the environment per call.

    `settings` is a mapping or an object (e.g. the ``Mira`` configurable) with optional
    ``<provider>_base_url``, ``compatible_api_key_env``, ``request_timeout``,
    ``connect_timeout``, ``max_attempts``, ``responses_api``, ``responses_store`` and
    ``reasoning_summary``.
    """
    from .client import OpenAICompatibleModel, Timeouts
    from .types import EndpointUnreachableError

    provider, model = split_model_id(model_id)
    spec = PROVIDERS[provider]
    base_url = resolve_base_url(provider, settings)
    if not base_url:
        raise EndpointUnreachableError(
            f"provider {provider!r} needs a base URL: set {spec.base_url_env} "
            f"(e.g. os.environ[{spec.base_url_env!r}] = 'http://localhost:8000/v1')"
        )
    if http_client is None:
        http_client = _default_http_client(spec)
    timeouts = Timeouts(
        connect=_float_setting(settings, "connect_timeout", "MIRA_CONNECT_TIMEOUT", 10.0),
        read=_float_setting(settings, "request_timeout", "MIRA_REQUEST_TIMEOUT", 300.0),
    )
    raw_attempts = _setting(settings, "max_attempts") or os.environ.get("MIRA_MAX_ATTEMPTS") or 4
    try:
        attempts = int(raw_attempts)
    except (TypeError, ValueError):
        raise ValueError(f"max_attempts must be a whole number, got {raw_attempts!r}") from None
    common: dict[str, Any] = dict(
        base_url=base_url,
        key_env=resolve_key_env(provider, settings),
        key_required=spec.key_required,
        http_client=http_client,
        timeouts=timeouts,
        max_attempts=max(1, attempts),
    )
    if uses_responses_api(model_id, settings):
        from .responses import OpenAIResponsesModel

        return OpenAIResponsesModel(
            provider,
            model,
            store=_store_setting(settings),
            reasoning_summary=str(_setting(settings, "reasoning_summary") or "auto"),
            **common,
        )
    return OpenAICompatibleModel(provider, model, max_tokens_param=spec.max_tokens_param, **common)
