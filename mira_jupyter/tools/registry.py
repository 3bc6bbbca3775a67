"""The executor's file tools as `Tool` data, and a registry that validates and dispatches calls."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .files import (
    CountLinesArgs,
    ListFilesArgs,
    ReadFileArgs,
    WriteFileArgs,
    count_lines,
    list_files,
    read_file,
    write_file,
)
from .grep import GrepArgs, grep_files
from .sandbox import SandboxDenied
from .summary import SummarizeFileArgs, summarize_file
from .symbols import ExtractSymbolsArgs, extract_symbols
from .types import Tool, ToolContext, ToolResult

_DESCRIPTIONS = {
    "read_file": (
        "Read a text file in the project. Returns at most the configured number of lines/bytes; "
        "use start_line/end_line for a range. A 'notice' says what was left out and where to continue."
    ),
    "write_file": (
        "Create or completely replace a text file (atomic; parent folders are created). "
        "Control files (.git/, .mira/, skills, the database) and credentials cannot be written."
    ),
    "list_files": (
        "List files in a project directory, optionally recursive and filtered by a glob. "
        "Honours .gitignore; never follows links out of the project."
    ),
    "grep_files": (
        "Search file contents with a regular expression (linear-time engine). Returns matching "
        "lines with file and line number, capped; optional context lines and file glob. "
        "Searching a directory skips files over 4 MiB; give such a file as the path to search "
        "it (time-limited)."
    ),
    "summarize_file": (
        "Summarise a file cheaply: line/byte counts, description, imports, an outline of top-level "
        "declarations with line spans, and the first/last lines. Much cheaper than read_file."
    ),
    "extract_symbols": (
        "List the functions, classes, methods, structs, enums, traits, interfaces and types in a "
        "source file as 'start-end kind Parent.name' lines (Python, Rust, TS/JS, Go, Java, C, C++)."
    ),
    "count_lines": (
        "Count lines, words, characters and bytes of several files at once; a bad path gives an "
        "error entry for that path only."
    ),
}


def file_tools() -> dict[str, Tool]:
    """The seven executor file tools, by name."""
    specs: list[tuple[str, Any, Any, bool]] = [
        ("read_file", ReadFileArgs, read_file, False),
        ("write_file", WriteFileArgs, write_file, True),
        ("list_files", ListFilesArgs, list_files, False),
        ("grep_files", GrepArgs, grep_files, False),
        ("summarize_file", SummarizeFileArgs, summarize_file, False),
        ("extract_symbols", ExtractSymbolsArgs, extract_symbols, False),
        ("count_lines", CountLinesArgs, count_lines, False),
    ]
    return {
        name: Tool(name, _DESCRIPTIONS[name], model, func, writes=writes)
        for name, model, func, writes in specs
    }


def summarise_validation_error(error: ValidationError) -> str:
    """A short, model-readable account of what was wrong with the arguments."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class ToolRegistry:
    """Named tools: OpenAI schemas for an allowed subset, and a dispatch that never raises."""

    def __init__(self, tools: Mapping[str, Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = dict(file_tools() if tools is None else tools)

    def register(self, tool: Tool) -> None:
        """Add (or replace) a tool."""
        self._tools[tool.name] = tool

    def names(self) -> list[str]:
        """All tool names, sorted."""
        return sorted(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called `name`, if any."""
        return self._tools.get(name)

    def openai_tools(self, allowed: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Chat Completions tool definitions for the allowed tools (all when None), sorted."""
        names = self._tools.keys() if allowed is None else set(allowed) & self._tools.keys()
        return [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": self._tools[name].description,
                    "parameters": self._tools[name].json_schema(),
                },
            }
            for name in sorted(names)
        ]

    def dispatch(
        self,
        name: str,
        arguments: str | Mapping[str, Any] | None,
        ctx: ToolContext,
        allowed: set[str] | None = None,
    ) -> ToolResult:
        """Validate and run one call; every failure comes back as a ToolResult."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(allowed if allowed is not None else self._tools))
            return ToolResult.denied(
                "unknown_tool", f"there is no tool named {name!r}; available: {known}"
            )
        if allowed is not None and name not in allowed:
            return ToolResult.denied(
                "not_allowed",
                f"tool {name!r} is not allowed here; allowed: {', '.join(sorted(allowed))}",
            )
        if arguments is None or arguments == "":
            arguments = {}
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError as exc:
                return ToolResult.denied(
                    "invalid_arguments", f"arguments are not valid JSON: {exc.msg}"
                )
        if not isinstance(arguments, Mapping):
            return ToolResult.denied("invalid_arguments", "arguments must be a JSON object")
        try:
            args = tool.args_model.model_validate(dict(arguments))
        except ValidationError as exc:
            return ToolResult.denied("invalid_arguments", summarise_validation_error(exc))
        try:
            return tool.func(args, ctx)
        except SandboxDenied as exc:
            return exc.to_result()
        except Exception as exc:  # a tool bug must not end the operation
            return ToolResult.error(f"{name} failed: {type(exc).__name__}: {exc}")
