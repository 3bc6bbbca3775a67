"""tree-sitter plumbing shared by the language walks: lazy grammar loading and symbol records.

Each grammar comes from its own wheel (offline) and is imported on first use only, so
``import mira_jupyter`` does not load any parser.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

# language -> (grammar module, function returning the language pointer)
GRAMMARS: dict[str, tuple[str, str]] = {
    "rust": ("tree_sitter_rust", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "javascript": ("tree_sitter_javascript", "language"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "python": ("tree_sitter_python", "language"),
}

_lock = threading.Lock()
_parsers: dict[str, Any] = {}


def parse(language: str, source: bytes) -> Any:
    """Parse `source` with the grammar for `language`; returns the tree's root node."""
    with _lock:
        parser = _parsers.get(language)
        if parser is None:
            import tree_sitter

            module, func = GRAMMARS[language]
            lang = tree_sitter.Language(getattr(importlib.import_module(module), func)())
            parser = _parsers[language] = tree_sitter.Parser(lang)
        # a Parser is not thread-safe; parsing under the lock keeps it simple and small files fast
        return parser.parse(source).root_node


@dataclass
class RawSymbol:
    """A symbol as found in the tree, before formatting."""

    kind: str
    name: str
    line: int
    end_line: int
    parent: str | None
    exported: bool | None
    signature: str
    nested: bool = False


def node_text(node: Any) -> str:
    """A node's source text (empty for a missing node)."""
    return node.text.decode("utf-8", errors="replace") if node is not None else ""


def signature(node: Any, body_field: str = "body") -> str:
    """The declaration's text up to its body, on one line."""
    body = node.child_by_field_name(body_field)
    if body is not None and body_field == "value" and body.child_by_field_name("body") is not None:
        body = body.child_by_field_name("body")  # `const f = (a) => ...`: keep the parameters
    end = body.start_byte if body is not None else node.end_byte
    raw = node.text[: end - node.start_byte].decode("utf-8", errors="replace")
    return " ".join(raw.split())[:200].rstrip(" {")


class Walk:
    """Shared bookkeeping for one file's walk."""

    def __init__(self) -> None:
        self.out: list[RawSymbol] = []

    def add(
        self,
        node: Any,
        kind: str,
        name: str,
        parent: str | None,
        exported: bool | None,
        body_field: str = "body",
        nested: bool = False,
    ) -> None:
        """Record a symbol (nameless ones are skipped)."""
        if not name:
            return
        self.out.append(
            RawSymbol(
                kind,
                name,
                node.start_point[0] + 1,
                node.end_point[0] + 1,
                parent,
                exported,
                signature(node, body_field),
                nested,
            )
        )


def rejected_coverage(root: Any, source: bytes) -> float:
    """The share of the file's lines holding text the grammar rejected.

    A line counts when it holds a token that sits directly in an ERROR node (or a token the
    parser had to invent). Complete declarations inside an ERROR node are not counted: the
    walks recover them, and one stray token can make a single ERROR node span the whole
    file (TypeScript variance annotations `<out T>` in effect's Schema.ts), which would call
    every line unparsed while hundreds of symbols were recovered intact.
    """
    if not root.has_error:
        return 0.0
    lines: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing or (node.type == "ERROR" and node.child_count == 0):
            lines.add(node.start_point[0])
            continue
        in_error = node.type == "ERROR"
        for child in node.children:
            if child.has_error or child.is_missing:
                stack.append(child)
            elif in_error and child.child_count == 0 and not child.is_extra:
                lines.update(range(child.start_point[0], child.end_point[0] + 1))
    total = source.count(b"\n") + (not source.endswith(b"\n"))
    return min(1.0, len(lines) / max(1, total))


def error_coverage(root: Any, source: bytes) -> float:
    """The share of the file's lines inside ERROR nodes (outermost ones only)."""
    if not root.has_error:
        return 0.0
    lines: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            lines.update(range(node.start_point[0], node.end_point[0] + 1))
        elif node.has_error:
            stack.extend(node.children)
    total = source.count(b"\n") + (not source.endswith(b"\n"))
    return min(1.0, len(lines) / max(1, total))


def error_bytes(root: Any) -> int:
    """Bytes inside ERROR nodes (outermost ones): how badly a parse went."""
    total = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            total += node.end_byte - node.start_byte
        elif node.has_error:
            stack.extend(node.children)
            total += sum(1 for c in node.children if c.is_missing)
    return total


def parse_best(language: str, source: bytes, repairs: list[Any]) -> tuple[Any, bytes]:
    """Parse `source`; when it has errors, try each repair and keep the parse with fewest.

    A repair (or a tuple of alternative repairs, the best of which is kept) rewrites text the grammar cannot handle (a macro, a newer syntax) without
    adding or removing newlines, so line numbers stay true.
    """
    root = parse(language, source)
    best = (error_bytes(root), root, source)
    for repair in repairs:
        if best[0] == 0:
            break
        current = best[2]
        # a tuple holds alternative readings of the same text: each starts from the same source
        for alternative in repair if isinstance(repair, tuple) else (repair,):
            fixed = alternative(current)
            if fixed == current:
                continue
            candidate = parse(language, fixed)
            score = error_bytes(candidate)
            if score < best[0]:
                best = (score, candidate, fixed)
    return best[1], best[2]
