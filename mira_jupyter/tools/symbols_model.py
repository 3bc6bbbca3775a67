"""The records extract_symbols, summarize_file and the repo map share: Symbol and Analysis."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Symbol:
    """One declaration: kind, name, 1-based line span, enclosing scope, visibility."""

    kind: str
    name: str
    line: int
    end_line: int
    parent: str | None = None
    exported: bool | None = None
    signature: str = ""
    nested: bool = False  # defined inside a function body (listed one level deep)

    @property
    def qualname(self) -> str:
        """`Parent.name` for members, else the name."""
        return f"{self.parent}.{self.name}" if self.parent else self.name

    def compact(self, signature: bool = False) -> str:
        """One line for the model, e.g. ``12-40 method Foo.bar``."""
        span = str(self.line) if self.end_line == self.line else f"{self.line}-{self.end_line}"
        text = f"{span} {self.kind} {self.qualname}" + (" (nested)" if self.nested else "")
        return f"{text}: {self.signature}" if signature and self.signature else text


@dataclass
class Analysis:
    """What a parse found: symbols, imports, and how much of the file the parser understood."""

    language: str
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    exports: list[str] | None = None  # explicit export list (Python __all__), when present
    parse_errors: bool = False
    unparsed: float = 0.0  # share of the file's lines inside regions the grammar rejected

    def parse_note(self) -> str | None:
        """A one-line statement of how complete the outline is, when the parse had errors."""
        if not self.parse_errors:
            return None
        clean = 1.0 - self.unparsed
        return (
            f"the file has syntax errors: {clean:.0%} of its lines parsed cleanly; symbols in "
            "the rest were recovered where the grammar could, so the outline may be incomplete"
        )
