"""The executor's file tools, each declared with `@tool` next to its code.

Calls go through `tools.dispatch.dispatch`, the one dispatch path (the engine adds events
and the result cap around it).
"""

from __future__ import annotations

from .files import count_lines, list_files, read_file, write_file
from .grep import grep_files
from .summary import summarize_file
from .symbols import extract_symbols
from .types import Tool

FILE_TOOLS: tuple[Tool, ...] = (
    read_file,
    write_file,
    list_files,
    grep_files,
    summarize_file,
    extract_symbols,
    count_lines,
)


def file_tools() -> dict[str, Tool]:
    """The seven executor file tools, by name."""
    return {declared.name: declared for declared in FILE_TOOLS}
