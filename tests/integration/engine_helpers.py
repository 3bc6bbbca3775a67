"""Helpers for running the engine against the scripted model through the real openai SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine
from mira_jupyter.engine.settings import EngineSettings

ORCH = "gpt-5"
EXEC = "deepseek-chat"


def plan_turn(*tasks: str) -> dict[str, Any]:
    """A submit_plan tool call with simple active forms."""
    return {
        "tool_calls": [
            {
                "name": "submit_plan",
                "arguments": {
                    "tasks": [{"description": t, "active_form": f"Working on: {t}"} for t in tasks]
                },
            }
        ]
    }


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A turn making one tool call."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


class Harness:
    """An engine on a temp project with a recording bus and an installed script."""

    def __init__(self, root: Path, script: mt.Script, **settings: Any) -> None:
        self.root = root
        self.script = script
        mt.use_script(script)
        self.events: list[Any] = []
        self.bus = EventBus()
        self.bus.subscribe(self.events.append)
        self.settings = EngineSettings(
            project_root=root,
            orchestrator_model=f"scripted:{ORCH}",
            executor_model=f"scripted:{EXEC}",
            **settings,
        )
        self.engine = Engine(self.settings, self.bus)

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]


def mira_shell() -> Iterator[Any]:
    """An IPython shell with the extension loaded on the scripted models and the text view,
    unloaded afterwards (a fixture's body: ``yield from mira_shell()``, after its chdir)."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mira_jupyter")
    ip.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
    ip.run_line_magic("config", f'Mira.executor_model = "scripted:{EXEC}"')
    ip.run_line_magic("config", 'Mira.view = "text"')
    yield ip
    ip.run_line_magic("unload_ext", "mira_jupyter")
    InteractiveShell.clear_instance()
