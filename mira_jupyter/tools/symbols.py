"""extract_symbols: a file's functions, classes, methods and types with line numbers.

Python goes through the stdlib ``ast``; a file ``ast`` rejects (a syntax error mid-edit) falls
back to the error-tolerant tree-sitter grammar. Other languages use tree-sitter walks.
"""

from __future__ import annotations

import ast
import os
import re
from typing import Any, Literal

from pydantic import Field

from .base import ToolArgs, check_text, sandbox_of
from .sandbox import Sandbox, SandboxDenied
from .symbols_degrade import fit_outline
from .symbols_model import Analysis, Symbol
from .symbols_python import python_imports, python_symbols, python_treesitter
from .types import ToolContext, ToolResult, tool

SymbolKind = Literal[
    "function", "class", "method", "struct", "enum", "trait", "interface", "type",
    "union", "record", "module", "namespace", "macro", "impl",
]  # fmt: skip

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".rs": "rust",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".go": "go",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp",
}  # fmt: skip
_CPP_HINTS = re.compile(
    rb"^\s*(?:class|namespace|template)\b|\b(?:public|private|protected)\s*:|\w::\w", re.M
)


def detect_language(path: str) -> str | None:
    """The language extract_symbols uses for `path`, from its extension."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def analyze(source: bytes, language: str) -> Analysis:
    """Parse `source` as `language` and return its symbols and imports."""
    if language == "python":
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return python_treesitter(source)
        imports, exports = python_imports(tree)
        return Analysis("python", list(python_symbols(tree)), imports, exports)
    from .treesitter_base import error_coverage, parse_best, rejected_coverage
    from .treesitter_langs import REPAIRS, WALKERS

    if language == "c" and _CPP_HINTS.search(source):
        # a .h file may be C++; the C grammar would read `class X {` as a function
        language = "cpp"
    root, parsed = parse_best(language, source, REPAIRS.get(language, []))
    walk_symbols, walk_imports = WALKERS[language]
    symbols = [
        Symbol(r.kind, r.name, r.line, r.end_line, r.parent, r.exported, r.signature, r.nested)
        for r in walk_symbols(root)
    ]
    imports = list(dict.fromkeys(i for i in walk_imports(root) if i))
    unparsed, region = rejected_coverage(root, parsed), error_coverage(root, parsed)
    return Analysis(language, symbols, imports, None, bool(root.has_error), unparsed, region)


def load_source(sandbox: Sandbox, path: str) -> tuple[bytes, str, int]:
    """Read a whole file for parsing, refusing binaries and files over the parse cap."""
    with sandbox.open_read(path) as (f, st, res):
        if st.st_size > sandbox.limits.max_parse_bytes:
            raise SandboxDenied(
                "too_large",
                f"{res.rel!r} is {st.st_size} bytes; over the {sandbox.limits.max_parse_bytes}-byte parse cap: use read_file with line ranges or grep_files",
            )
        check_text(f, res.rel, st.st_size)
        return f.read(sandbox.limits.max_parse_bytes + 1), res.rel, st.st_size


class ExtractSymbolsArgs(ToolArgs):
    """Arguments of extract_symbols."""

    path: str = Field(description="Source file, relative to the project root.")
    kinds: list[SymbolKind] | None = Field(None, description="Only these kinds (default: all).")
    include_private: bool = Field(True, description="Include private/unexported symbols.")
    signatures: bool = Field(
        False, description="Append each declaration's signature (costs more tokens)."
    )


@tool
def extract_symbols(args: ExtractSymbolsArgs, ctx: ToolContext) -> ToolResult:
    """List the functions, classes, methods, structs, enums, traits, interfaces and types in
    a source file as 'start-end kind Parent.name' lines (Python, Rust, TS/JS, Go, Java, C,
    C++)."""
    source, rel, size = load_source(sandbox_of(ctx), args.path)
    language = detect_language(rel)
    if language is None:
        known = ", ".join(sorted({*EXTENSIONS}))
        return ToolResult.error(f"no symbol parser for {rel!r}; supported extensions: {known}")
    analysis = analyze(source, language)
    symbols = [
        s
        for s in analysis.symbols
        if (args.kinds is None or s.kind in args.kinds)
        and (args.include_private or s.exported is not False)
    ]
    content: dict[str, Any] = {
        "path": rel,
        "language": analysis.language,
        "count": len(symbols),
        **fit_outline(symbols, args.signatures),
    }
    if analysis.parse_errors:
        content["warning"] = analysis.parse_note()
    return ToolResult.ok(truncated="degraded" in content, **content)
