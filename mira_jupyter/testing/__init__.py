"""A scripted OpenAI-compatible model for tests and offline notebooks.

In a notebook, both roles on the offline demo agent::

    import mira_jupyter.testing as mt; mt.offline()

or a script of your own::

    import mira_jupyter.testing as mt; mt.use_script("demo")   # or a dict / JSON path
    %config Mira.orchestrator_model = "scripted:gpt-5"

In a test, hand ``scripted_http_client(script)`` to the openai SDK (in-process), or run
``ScriptedServer(script)`` on 127.0.0.1 and use its ``base_url``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..llm.providers import ProviderSpec, register_provider

__all__ = [
    "RecordedRequest",
    "Script",
    "ScriptedServer",
    "ScriptedToolCall",
    "ScriptedTransport",
    "Turn",
    "current_script",
    "demo_script",
    "offline",
    "scripted_http_client",
    "use_script",
]

if TYPE_CHECKING:
    from .offline_agent import offline
    from .script import RecordedRequest, Script, demo_script
    from .server import ScriptedServer
    from .transport import ScriptedTransport, current_script, scripted_http_client, use_script
    from .turns import ScriptedToolCall, Turn

_HOMES = {
    "RecordedRequest": "script",
    "Script": "script",
    "ScriptedServer": "server",
    "ScriptedToolCall": "turns",
    "ScriptedTransport": "transport",
    "Turn": "turns",
    "current_script": "transport",
    "demo_script": "script",
    "offline": "offline_agent",
    "scripted_http_client": "transport",
    "use_script": "transport",
}


# the scripted model is a provider like any other: registering it here keeps the production
# code free of test names; its HTTP client is imported only when a model is built
register_provider(
    ProviderSpec(
        "scripted",
        "http://scripted.invalid/v1",
        None,
        False,
        "max_completion_tokens",
        http_client="mira_jupyter.testing.transport:scripted_http_client",
    )
)


def __getattr__(name: str) -> Any:
    # lazy, so that importing mira_jupyter.testing does not pull in httpx
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
