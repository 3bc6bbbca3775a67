"""``%mira diff [OP_ID]``: an operation's changes as unified diffs, one per file.

The same diffs the cell shows, built from the recorded ``file_changes`` (this session's
memory first, else the log), so they can be read long after the files moved on. The default
operation is the one ``%mira undo`` would undo: the last one that changed files.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from ..core.diffs import FileDiff
from ..ui.diff_view import change_row_html, diff_text, path_changes
from ..ui.state import FileChange

if TYPE_CHECKING:
    from .magics import MiraMagics


@dataclass
class OperationDiff:
    """The diffs of one operation: HTML in a notebook, plain text in a terminal."""

    operation_id: str
    diffs: list[tuple[FileChange, FileChange, FileDiff]]  # per path: first change, last, diff

    def text(self) -> str:
        """Plain text: a header line, then each file's unified diff."""
        files = len(self.diffs)
        head = f"mira diff {self.operation_id}: {files} file{'s' if files != 1 else ''} changed"
        return head + "\n" + diff_text(self.diffs)

    def _repr_html_(self) -> str:
        rows = [change_row_html(first, last, diff, open_=True) for first, last, diff in self.diffs]
        head = f"<div><b>mira diff</b> <code>{escape(self.operation_id)}</code></div>"
        return f'<div class="mira-diff-view tex2jax_ignore mathjax_ignore">{head}{"".join(rows)}</div>'

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def __repr__(self) -> str:
        return self.text()


def diff_command(magics: MiraMagics, argv: list[str]) -> OperationDiff:
    """Show an operation's changes as unified diffs (default: the last one that changed files)."""
    from ..store.replay import load_events
    from ..undo import operation_changes
    from .args import MiraUsageError as SubcommandError  # one line and the cell fails

    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        raise SubcommandError("usage: %mira diff [OP_ID]")
    session = magics.session
    session.flush()
    wanted = argv[0] if argv else None
    op_id, changes = operation_changes(session, wanted)
    if not changes:
        if wanted is None:
            raise SubcommandError("no operation changed any files yet")
        if wanted not in session.engine.operations and not load_events(session.database, wanted):
            raise SubcommandError(f"no operation {wanted!r} in {session.database} (see %mira history)")
        raise SubcommandError(f"operation {wanted} changed no files")
    return OperationDiff(op_id or wanted or "", path_changes(FileChange.of(c) for c in changes))
