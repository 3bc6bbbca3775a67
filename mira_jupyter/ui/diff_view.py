"""Diffs in the cell: one collapsed unified diff per changed file, and the approval question.

A file written several times by one operation shows one diff, from its content before the
operation to its content after. Inline styles only (saved notebooks drop <style>), colours
as translucent backgrounds over the theme's own text colour, so the diff reads in light and
dark themes alike. Every line from a file is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..core.diffs import FileDiff, code_size, file_diff
from ..core.visible import visible, visible_command
from .colors import ERROR, OK, tone
from .markdown import CODE_STYLE
from .state import ApprovalState, FileChange, OperationState

_PRE = (
    # width 0 with a min-width: an intrinsic width of 0, so a long line scrolls inside the box
    # instead of widening the widget (flex) or the output area it sits in
    "display:block;width:0;min-width:calc(100% - 4px);box-sizing:border-box;margin:4px 0 6px 0;"
    "padding:6px 8px;max-height:420px;overflow:auto;font-size:12px;"
    "line-height:1.4;border:1px solid rgba(127,127,127,0.3);border-radius:4px;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre"
)
_ADDED = "background:rgba(46,160,67,0.18)"
_REMOVED = "background:rgba(248,81,73,0.18)"
_HUNK = "opacity:0.7"
_PLUS = f"{tone(OK)};font-weight:600"
_MINUS = f"{tone(ERROR)};font-weight:600"


def path_changes(changes: Iterable[FileChange]) -> list[tuple[FileChange, FileChange, FileDiff]]:
    """Per path, in first-write order: its first change, its last change and the diff between."""
    first: dict[str, FileChange] = {}
    last: dict[str, FileChange] = {}
    for change in changes:
        first.setdefault(change.path, change)
        last[change.path] = change
    out = []
    for path, start in first.items():
        end = last[path]
        old = start.previous if start.existed_before else None
        if end.new is None and end.new_sha256 is not None:
            # a command's large change, or a log written before new content was kept
            diff = FileDiff(path, "", 0, 0, "the new content was not kept: %mira undo still restores it")
        elif start.existed_before and start.previous is None:
            # compared with nothing, it would read as a new file: say what is missing instead
            diff = FileDiff(path, "", 0, 0, "its earlier content is not in the log")
        else:
            diff = file_diff(path, old, end.new)
        out.append((start, end, diff))
    return out


def change_verb(first: FileChange, last: FileChange) -> str:
    """created, modified or deleted: what the operation did to a path, first write to last."""
    gone = last.new is None and last.new_sha256 is None
    if not first.existed_before:
        return "created and deleted" if gone else "created"
    return "deleted" if gone else "modified"


def _lines_word(n: int) -> str:
    return f"{n:,} line{'' if n == 1 else 's'}"


def change_stat(verb: str, diff: FileDiff) -> tuple[str, str]:
    """(kind, text) of a change's size, never empty: kind is 'diff', 'removed' or 'note';
    text is '+3 −1', '−12 lines' (a deletion: nothing was added) or a note ('empty file')."""
    if diff.text:
        if verb == "deleted":
            return "removed", f"−{_lines_word(diff.removed)}"
        return "diff", diff.stat
    if diff.note:
        return "note", diff.note
    # no diff lines and nothing to explain: both sides are the same text
    if verb in ("created", "deleted"):
        return "note", "empty file"
    if verb == "created and deleted":
        return "note", "nothing left"
    return "note", "content unchanged"


def change_line(first: FileChange, last: FileChange, diff: FileDiff) -> str:
    """'modified src/a.py (+3 −1)', 'deleted old.py (−12 lines)': one path's change as text."""
    verb = change_verb(first, last)
    return f"{verb} {first.path} ({change_stat(verb, diff)[1]})"


def diff_lines_html(text: str) -> str:
    """A unified diff's lines, coloured, in one scrollable <pre>."""
    rows = []
    for line in text.splitlines():
        if line.startswith(("+++", "---", "@@")):
            rows.append(f'<span style="{_HUNK}">{escape(line)}</span>\n')
        elif line.startswith("+"):
            # a block span ends its own line: no newline after it
            rows.append(f'<span style="{_ADDED};display:block">{escape(line)}</span>')
        elif line.startswith("-"):
            rows.append(f'<span style="{_REMOVED};display:block">{escape(line)}</span>')
        else:
            rows.append(escape(line) + "\n")
    return f'<pre class="mira-diff" style="{_PRE}">{"".join(rows)}</pre>'


def stat_html(diff: FileDiff, verb: str = "modified") -> str:
    """'+3 −1' in green and red, '−12 lines' in red, or the note of a change without a diff."""
    kind, text = change_stat(verb, diff)
    if kind == "note":
        return f'<span style="opacity:0.75">({escape(text)})</span>'
    if kind == "removed":
        return f'<span style="{_MINUS}">{escape(text)}</span>'
    return f'<span style="{_PLUS}">+{diff.added}</span> <span style="{_MINUS}">−{diff.removed}</span>'


def changes_html(state: OperationState, open_: bool = False) -> str:
    """The operation's changed files, each a collapsed diff (``open_`` unfolds them)."""
    key = (len(state.files_changed), open_)
    if key not in state.rendered_changes:
        state.rendered_changes.clear()
        state.rendered_changes[key] = _changes_html(state, open_)
    return state.rendered_changes[key]


def _changes_html(state: OperationState, open_: bool) -> str:
    rows = []
    for first, last, diff in path_changes(state.files_changed):
        rows.append(change_row_html(first, last, diff, open_))
    return "".join(rows)


def change_row_html(first: FileChange, last: FileChange, diff: FileDiff, open_: bool = False) -> str:
    """One path's change: '✎ verb path stat', its diff folded under it when there is one."""
    verb = change_verb(first, last)
    summary = f'✎ {verb} <code style="{CODE_STYLE}">{escape(first.path)}</code> {stat_html(diff, verb)}'
    if not diff.text:
        return f'<div class="mira-change" style="font-size:12px">{summary}</div>'
    return (
        f'<details{" open" if open_ else ""} class="mira-change" style="font-size:12px">'
        f'<summary style="cursor:pointer">{summary}</summary>{diff_lines_html(diff.text)}</details>'
    )


def approval_summary(approval: ApprovalState) -> str:
    """What asks: 'write loader.py (+3 −1)' or 'run curl -s example.org'."""
    request = approval.request
    if request.kind == "command":
        return "run " + visible_command(request.argv or [])
    if request.kind == "code":
        return f"run_code ({code_size(request.code)} of Python)"
    stat = f" (+{request.added} −{request.removed})" if request.diff else ""
    return f"{request.tool} {request.path}{stat}"


DECISION_LABELS = {
    "approved": "✓ approved",
    "rejected": "✗ rejected",
    "timeout": "✗ rejected (no answer in time)",
    "stopped": "■ stopped while waiting",
}


def approval_body_html(approval: ApprovalState) -> str:
    """The question's body: the command line, or the diff (its note when there is none)."""
    request = approval.request
    if request.kind == "command":
        return f'<pre class="mira-diff" style="{_PRE}">$ {escape(visible_command(request.argv or []))}</pre>'
    if request.kind == "code":
        # the code as it runs: a bidi or control character is spelled, never obeyed
        return f'<pre class="mira-diff mira-code" style="{_PRE}">{escape(visible(request.code))}</pre>'
    if request.diff:
        body = diff_lines_html(request.diff)
        if request.note:
            body += f'<div style="opacity:0.75;font-size:12px">{escape(request.note)}</div>'
        return body
    return f'<div style="opacity:0.75;font-size:12px">{escape(request.note or "no diff to show")}</div>'


def approvals_html(state: OperationState) -> str:
    """The decided questions, one line each (the waiting one is the live panel's)."""
    rows = []
    for approval in state.approvals.values():
        if approval.decision is None:
            continue
        color = "#1a7f37" if approval.decision == "approved" else "#9a6700"
        rows.append(
            f'<div class="mira-approval-line" data-mira-approval="{escape(approval.decision)}" '
            f'style="font-size:12px"><span style="color:{color}">'
            f"{escape(DECISION_LABELS.get(approval.decision, approval.decision))}</span>: "
            f"{escape(approval_summary(approval))} <span style=\"opacity:0.75\">"
            f"({escape(approval.request.why)})</span></div>"
        )
    return "".join(rows)


def diff_text(diffs: Iterable[tuple[FileChange, FileChange, FileDiff]]) -> str:
    """The diffs of `path_changes` as plain text (a terminal, text/plain)."""
    out = []
    for first, last, diff in diffs:
        # a change without diff lines still says what it was and how big
        out.append(diff.text if diff.text else change_line(first, last, diff))
    return "\n".join(out)
