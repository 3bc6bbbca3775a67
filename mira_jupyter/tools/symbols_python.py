"""Python outlines: the stdlib ``ast`` for files that parse, tree-sitter for files that do not.

Definitions inside a function body (helpers, local classes) are listed one level deep and
marked nested; deeper ones are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .symbols_model import Analysis, Symbol

_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith)


def _signature(node: ast.AST) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"[:200]


def _blocks(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """Statement lists under an if/try/with: definitions there are still the module's API."""
    if isinstance(node, ast.If | ast.Try):
        yield from (node.body, node.orelse, getattr(node, "finalbody", []))
        for handler in getattr(node, "handlers", []):
            yield handler.body
    elif isinstance(node, ast.With | ast.AsyncWith):
        yield node.body


def python_symbols(tree: ast.Module) -> Iterator[Symbol]:
    """Classes, functions, methods and type aliases; nested definitions one level deep."""

    def visit(
        body: list[ast.stmt], parent: str | None, in_class: bool, nested: bool
    ) -> Iterator[Symbol]:
        for node in body:
            span = (node.lineno, node.end_lineno or node.lineno)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "method" if in_class else "function"
                public = not node.name.startswith("_")
                yield Symbol(kind, node.name, *span, parent, public, _signature(node), nested)
                if not nested:
                    qual = f"{parent}.{node.name}" if parent else node.name
                    yield from visit(node.body, qual, False, True)
            elif isinstance(node, ast.ClassDef):
                public = not node.name.startswith("_")
                yield Symbol("class", node.name, *span, parent, public, _signature(node), nested)
                qual = f"{parent}.{node.name}" if parent else node.name
                yield from visit(node.body, qual, True, nested)
            elif isinstance(node, _BLOCKS):
                for block in _blocks(node):
                    yield from visit(block, parent, in_class, nested)
            elif nested:
                continue
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and "TypeAlias" in ast.unparse(node.annotation)
            ):
                name = node.target.id
                text = ast.unparse(node)[:200]
                yield Symbol("type", name, *span, parent, not name.startswith("_"), text)
            elif type(node).__name__ == "TypeAlias":  # `type X = ...` (3.12+)
                name = getattr(getattr(node, "name", None), "id", "")
                text = ast.unparse(node)[:200]
                yield Symbol("type", name, *span, parent, not name.startswith("_"), text)

    yield from visit(tree.body, None, False, False)


def python_imports(tree: ast.Module) -> tuple[list[str], list[str] | None]:
    """Imported module names, and the `__all__` export list when it is a literal."""
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


_TS_BLOCKS = {
    "if_statement", "else_clause", "elif_clause", "try_statement", "except_clause",
    "finally_clause", "with_statement", "block", "ERROR",
}  # fmt: skip


def python_treesitter(source: bytes) -> Analysis:
    """The outline of a file `ast` rejects, from the error-tolerant tree-sitter grammar."""
    from .treesitter_base import error_coverage, parse, rejected_coverage

    root = parse("python", source)
    out: list[Symbol] = []

    def visit(node: Any, parent: str | None, in_class: bool, nested: bool) -> None:
        for child in node.named_children:
            target = child
            if child.type == "decorated_definition":
                target = child.child_by_field_name("definition") or child
            name_node = target.child_by_field_name("name")
            name = (name_node.text or b"").decode() if name_node is not None else ""
            span = (target.start_point[0] + 1, target.end_point[0] + 1)
            body = target.child_by_field_name("body")
            qual = f"{parent}.{name}" if parent else name
            if target.type == "function_definition" and name:
                kind = "method" if in_class else "function"
                out.append(Symbol(kind, name, *span, parent, not name.startswith("_"), "", nested))
                if body is not None and not nested:
                    visit(body, qual, False, True)
            elif target.type == "class_definition" and name:
                out.append(Symbol("class", name, *span, parent, not name.startswith("_"), "", nested))
                if body is not None:
                    visit(body, qual, True, nested)
            elif target.type in _TS_BLOCKS:
                visit(target, parent, in_class, nested)

    visit(root, None, False, False)
    imports = [
        " ".join(c.text.decode(errors="replace").split()[1:2])
        for c in root.named_children
        if c.type in ("import_statement", "import_from_statement")
    ]
    return Analysis(
        "python", out, [i for i in imports if i], None, True,
        rejected_coverage(root, source), error_coverage(root, source),
    )  # fmt: skip
