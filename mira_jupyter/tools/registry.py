"""The executor's file tools, each declared with `@tool` next to its code.

Calls go through `tools.dispatch.dispatch`, the one dispatch path (the engine adds events
and the result cap around it). read_file, summarize_file, extract_symbols and grep_files
are wrapped by `notebook_aware`, so a ``.ipynb`` is handled as cells, never as raw JSON.
"""

from __future__ import annotations

from dataclasses import replace

from .edit_notebook import edit_notebook
from .files import count_lines, list_files, read_file, write_file
from .grep import grep_files
from .notebook_tools import notebook_aware
from .summary import summarize_file
from .symbols import extract_symbols
from .types import Tool

FILE_TOOLS: tuple[Tool, ...] = tuple(
    replace(declared, func=notebook_aware(declared.name, declared.func))
    if declared.name in ("read_file", "summarize_file", "extract_symbols", "grep_files")
    else declared
    for declared in (
        read_file,
        write_file,
        list_files,
        grep_files,
        summarize_file,
        extract_symbols,
        count_lines,
        edit_notebook,
    )
)


def file_tools() -> dict[str, Tool]:
    """The eight executor file tools, by name."""
    return {declared.name: declared for declared in FILE_TOOLS}
