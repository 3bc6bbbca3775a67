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

    @property
    def base_url_env(self) -> str:
        """The env var that overrides the base URL, e.g. ``MIRA_OPENAI_BASE_URL``."""
        return f"MIRA_{self.name.upper()}_BASE_URL"


_BUILTIN_PROVIDERS = (
    ProviderSpec(
        "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True, "max_completion_tokens"
    ),
    ProviderSpec("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY", True),
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
    if not model or not _MODEL_RE.match(model):
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
        _setting(settings, f"{provider}_base_url")
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
            is_set=bool(env_var and os.environ.get(env_var)),
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


def build_chat_model(
    model_id: str,
    *,
    settings: Any = None,
    http_client: httpx.Client | None = None,
) -> ChatModel:
    """Build the ChatModel for `model_id`; the API key is read from the environment per call.

    `settings` is a mapping or an object (e.g. the ``Mira`` configurable) with optional
    ``<provider>_base_url``, ``compatible_api_key_env``, ``request_timeout``,
    ``connect_timeout`` and ``max_attempts``.
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
    return OpenAICompatibleModel(
        provider,
        model,
        base_url=base_url,
        key_env=resolve_key_env(provider, settings),
        key_required=spec.key_required,
        max_tokens_param=spec.max_tokens_param,
        http_client=http_client,
        timeouts=timeouts,
        max_attempts=max(1, attempts),
    )
