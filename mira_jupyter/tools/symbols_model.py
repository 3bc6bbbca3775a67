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
    unparsed: float = 0.0  # share of the file's lines holding text the grammar rejected
    error_region: float = 0.0  # share of the file's lines inside ERROR nodes (outermost)

    def parse_note(self) -> str | None:
        """A one-line statement of how complete the outline is, when the parse had errors."""
        if not self.parse_errors:
            return None
        share = _percent(self.unparsed)
        region = ""
        if self.error_region - self.unparsed >= 0.1:
            # one stray token can make an ERROR node span most of the file; the declarations
            # in it still parse, so the region is said apart from the rejected text
            region = f" (inside error regions spanning {_percent(self.error_region)} of the file)"
        return (
            f"the file has syntax errors: {share} of its lines hold text the grammar could not "
            f"parse{region}; symbols there were recovered where the grammar could, so the "
            "outline may be incomplete"
        )


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.005 or share == 0 else "under 1%"
