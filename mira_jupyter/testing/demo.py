"""The built-in "demo" script: plausible offline answers for any request, never exhausted.

It answers by looking at the request, so it works for the orchestrator and the executor
alike: with tools offered and no tool result yet it makes one tool call, after a tool
result it answers in prose, asked for a plan it writes a numbered plan.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .turns import Turn


class RecordedRequest(Protocol):
    """What the demo reads of a request (script.RecordedRequest has it): a protocol, so that
    this module need not import the script that imports it."""

    @property
    def messages(self) -> list[dict[str, Any]]: ...

    @property
    def tool_names(self) -> list[str]: ...

# the first of these that the request offers is called; arguments that fit each
_PREFERRED_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_project_files", {"pattern": "**/*.py"}),
    ("list_files", {"pattern": "**/*.py"}),
    ("search_codebase", {"query": "import"}),
    ("grep_files", {"pattern": "def "}),
    ("read_project_file", {"paths": ["README.md"]}),
    ("read_file", {"path": "README.md"}),
]

_PLAN = [
    {"description": "Look at the project layout", "active_form": "Looking at the project layout"},
    {"description": "Read the files involved", "active_form": "Reading the files involved"},
    {"description": "Make the change and summarise it", "active_form": "Making the change"},
]


def _last_user_text(request: RecordedRequest) -> str:
    for message in reversed(request.messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def demo_responder(request: RecordedRequest) -> Turn:
    """Pick a reply that fits the request: a plan, a tool call, or a short answer."""
    messages = request.messages
    last = messages[-1] if messages else {}
    user = _last_user_text(request)
    # a provider honours tool_choice: "none" means text, a tool's name means that call
    offered = set() if request.tool_choice == "none" else set(request.tool_names)
    if request.tool_choice == "submit_plan":
        return Turn(
            tool_calls=[{"name": "submit_plan", "arguments": {"tasks": _PLAN}}], reasoning_tokens=64
        )
    asking_plan = any(
        "numbered" in str(m.get("content", "")).lower() and m.get("role") == "system"
        for m in messages
    )
    if asking_plan and not offered:
        return Turn(
            text=(
                "1. Look at the project layout\n"
                "2. Read the files involved in the request\n"
                "3. Make the change and summarise it"
            ),
            reasoning_tokens=64,
        )
    if offered and last.get("role") != "tool":
        for name, arguments in _PREFERRED_CALLS:
            if name in offered:
                return Turn(tool_calls=[{"name": name, "arguments": arguments}])
    if last.get("role") == "tool":
        result = str(last.get("content", ""))
        preview = result[:200] + ("…" if len(result) > 200 else "")
        return Turn(text=f"(demo model) The tool returned: {preview}")
    topic = user.strip().splitlines()[0][:120] if user.strip() else "your request"
    return Turn(
        text=(
            f"(demo model) This is an offline scripted answer to: {topic}. "
            "Set a real model with %config Mira.orchestrator_model to get real work done."
        )
    )
