"""extract_symbols: a file's functions, classes, methods and types with line numbers.

Python goes through the stdlib ``ast``; a file ``ast`` rejects (a syntax error mid-edit) falls
back to the error-tolerant tree-sitter grammar. Other languages use tree-sitter walks.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from .base import ToolArgs, check_text, guarded, sandbox_of
from .sandbox import Sandbox, SandboxDenied
from .types import ToolContext, ToolResult

SymbolKind = Literal[
    "function", "class", "method", "struct", "enum", "trait", "interface", "type",
    "union", "record", "module", "namespace", "macro",
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
MAX_SYMBOLS = 600
_CPP_HINTS = re.compile(
    rb"^\s*(?:class|namespace|template)\b|\b(?:public|private|protected)\s*:|\w::\w", re.M
)


def detect_language(path: str) -> str | None:
    """The language extract_symbols uses for `path`, from its extension."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


@dataclass(frozen=True)
class Symbol:
    """One declaration: kind, name, 1-based line span, enclosing type, visibility."""

    kind: str
    name: str
    line: int
    end_line: int
    parent: str | None = None
    exported: bool | None = None
    signature: str = ""

    @property
    def qualname(self) -> str:
        """`Parent.name` for members, else the name."""
        return f"{self.parent}.{self.name}" if self.parent else self.name

    def compact(self, signature: bool = False) -> str:
        """One line for the model, e.g. ``12-40 method Foo.bar``."""
        span = str(self.line) if self.end_line == self.line else f"{self.line}-{self.end_line}"
        text = f"{span} {self.kind} {self.qualname}"
        return f"{text}: {self.signature}" if signature and self.signature else text


@dataclass
class Analysis:
    """What a parse found: symbols, imports, and whether the parser hit errors."""

    language: str
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    exports: list[str] | None = None  # explicit export list (Python __all__), when present
    parse_errors: bool = False


# ---------------------------------------------------------------------------------------
# Python


def _py_signature(node: ast.AST) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"[:200]


def _py_symbols(tree: ast.Module) -> Iterator[Symbol]:
    def visit(body: list[ast.stmt], parent: str | None, in_class: bool) -> Iterator[Symbol]:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "method" if in_class else "function"
                yield Symbol(
                    kind,
                    node.name,
                    node.lineno,
                    node.end_lineno or node.lineno,
                    parent,
                    not node.name.startswith("_"),
                    _py_signature(node),
                )
            elif isinstance(node, ast.ClassDef):
                yield Symbol(
                    "class",
                    node.name,
                    node.lineno,
                    node.end_lineno or node.lineno,
                    parent,
                    not node.name.startswith("_"),
                    _py_signature(node),
                )
                yield from visit(
                    node.body, node.name if parent is None else f"{parent}.{node.name}", True
                )
            elif isinstance(node, ast.If | ast.Try):
                # definitions under `if TYPE_CHECKING:` / try-import fallbacks are still API
                for block in (node.body, node.orelse, getattr(node, "finalbody", [])):
                    yield from visit(block, parent, in_class)
                for handler in getattr(node, "handlers", []):
                    yield from visit(handler.body, parent, in_class)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and "TypeAlias" in ast.unparse(node.annotation)
            ):
                yield Symbol(
                    "type",
                    node.target.id,
                    node.lineno,
                    node.end_lineno or node.lineno,
                    parent,
                    not node.target.id.startswith("_"),
                    ast.unparse(node)[:200],
                )
            elif type(node).__name__ == "TypeAlias":  # `type X = ...` (3.12+)
                name = getattr(getattr(node, "name", None), "id", "")
                yield Symbol(
                    "type",
                    name,
                    node.lineno,
                    node.end_lineno or node.lineno,
                    parent,
                    not name.startswith("_"),
                    ast.unparse(node)[:200],
                )

    yield from visit(tree.body, None, False)


def _py_imports(tree: ast.Module) -> tuple[list[str], list[str] | None]:
    imports: list[str] = []
    exports: list[str] | None = None
    for node in tree.body:
        if isinstance(node, ast.Import):
            imports.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
                exports = [str(v) for v in value]
            except (ValueError, TypeError, SyntaxError):
                pass
    return list(dict.fromkeys(imports)), exports


def _py_treesitter(source: bytes) -> Analysis:
    from .treesitter_base import parse

    root = parse("python", source)
    out: list[Symbol] = []

    def visit(node: Any, parent: str | None, in_class: bool) -> None:
        for child in node.named_children:
            target = (
                child.child_by_field_name("definition")
                if child.type == "decorated_definition"
                else child
            )
            if target is None:
                continue
            name = (
                (target.child_by_field_name("name").text or b"").decode()
                if target.child_by_field_name("name")
                else ""
            )
            if target.type == "function_definition" and name:
                out.append(
                    Symbol(
                        "method" if in_class else "function",
                        name,
                        target.start_point[0] + 1,
                        target.end_point[0] + 1,
                        parent,
                        not name.startswith("_"),
                    )
                )
            elif target.type == "class_definition" and name:
                out.append(
                    Symbol(
                        "class",
                        name,
                        target.start_point[0] + 1,
                        target.end_point[0] + 1,
                        parent,
                        not name.startswith("_"),
                    )
                )
                body = target.child_by_field_name("body")
                if body is not None:
                    visit(body, name, True)

    visit(root, None, False)
    imports = [
        " ".join(c.text.decode(errors="replace").split()[1:2])
        for c in root.named_children
        if c.type in ("import_statement", "import_from_statement")
    ]
    return Analysis("python", out, [i for i in imports if i], None, parse_errors=True)


# ---------------------------------------------------------------------------------------


def analyze(source: bytes, language: str) -> Analysis:
    """Parse `source` as `language` and return its symbols and imports."""
    if language == "python":
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return _py_treesitter(source)
        imports, exports = _py_imports(tree)
        return Analysis("python", list(_py_symbols(tree)), imports, exports)
    from .treesitter_base import parse
    from .treesitter_langs import WALKERS

    if language == "c" and _CPP_HINTS.search(source):
        # a .h file may be C++; the C grammar would read `class X {` as a function
        language = "cpp"
    root = parse(language, source)
    walk_symbols, walk_imports = WALKERS[language]
    symbols = [
        Symbol(r.kind, r.name, r.line, r.end_line, r.parent, r.exported, r.signature)
        for r in walk_symbols(root)
    ]
    imports = list(dict.fromkeys(i for i in walk_imports(root) if i))
    return Analysis(language, symbols, imports, None, parse_errors=bool(root.has_error))


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


@guarded
def extract_symbols(args: ExtractSymbolsArgs, ctx: ToolContext) -> ToolResult:
    """List a source file's declarations as compact lines: 'start-end kind Parent.name'."""
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
    shown = symbols[:MAX_SYMBOLS]
    content: dict[str, Any] = {
        "path": rel,
        "language": analysis.language,
        "count": len(symbols),
        "symbols": [s.compact(args.signatures) for s in shown],
    }
    if analysis.parse_errors:
        content["warning"] = "the file has syntax errors; symbols may be incomplete"
    left = len(symbols) - len(shown)
    if left:
        content["notice"] = f"{left} more symbols not shown; filter with `kinds`"
    return ToolResult.ok(truncated=bool(left), **content)
