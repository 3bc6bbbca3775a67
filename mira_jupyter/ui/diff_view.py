"""Diffs in the cell: one collapsed unified diff per changed file, and the approval question.

A file written several times by one operation shows one diff, from its content before the
operation to its content after. Inline styles only (saved notebooks drop <style>), colours
as translucent backgrounds over the theme's own text colour, so the diff reads in light and
dark themes alike. Every line from a file is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..core.diffs import FileDiff, file_diff
from ..core.visible import visible
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


def file_diffs(changes: Iterable[FileChange]) -> list[tuple[FileChange, FileDiff]]:
    """One diff per path, from the first change's previous bytes to the last change's new ones."""
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
        else:
            diff = file_diff(path, old, end.new)
        out.append((start, diff))
    return out


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


def stat_html(diff: FileDiff) -> str:
    """'+3 −1' in green and red, or the note of a change without a diff."""
    if not diff.text:
        return f'<span style="opacity:0.75">({escape(diff.note)})</span>'
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
    for change, diff in file_diffs(state.files_changed):
        if not change.existed_before:
            verb = "created"
        else:
            verb = "deleted" if change_deleted(state, change.path) else "modified"
        summary = f'✎ {verb} <code style="{CODE_STYLE}">{escape(change.path)}</code> {stat_html(diff)}'
        if not diff.text:
            rows.append(f'<div class="mira-change" style="font-size:12px">{summary}</div>')
            continue
        rows.append(
            f'<details class="mira-change"{" open" if open_ else ""} style="font-size:12px">'
            f'<summary style="cursor:pointer">{summary}</summary>{diff_lines_html(diff.text)}</details>'
        )
    return "".join(rows)


def change_deleted(state: OperationState, path: str) -> bool:
    """Whether the operation's last change to `path` removed it."""
    last = [c for c in state.files_changed if c.path == path][-1]
    return last.new is None and last.new_sha256 is None


def approval_summary(approval: ApprovalState) -> str:
    """What asks: 'write loader.py (+3 −1)' or 'run curl -s example.org'."""
    request = approval.request
    if request.kind == "command":
        return "run " + " ".join(request.argv or [])
    if request.kind == "code":
        lines = request.code.rstrip("\n").count("\n") + 1  # a \r is spelled, not a line break
        return f"run_code ({lines} line{'' if lines == 1 else 's'} of Python)"
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
        return f'<pre class="mira-diff" style="{_PRE}">$ {escape(" ".join(request.argv or []))}</pre>'
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


def diff_text(diffs: Iterable[tuple[FileChange, FileDiff]]) -> str:
    """The diffs as plain text (a terminal, text/plain)."""
    out = []
    for change, diff in diffs:
        if diff.text:
            out.append(diff.text)
        else:
            out.append(f"{change.path}: {diff.note}")
    return "\n".join(out)
