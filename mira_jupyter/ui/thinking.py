"""The "thinking" lines: one collapsed line per model call that summarised its reasoning.

The summary is the model's account of its hidden reasoning (Responses API reasoning
summaries). It is shown apart from the answer, folded by default, in the live widget
and in the static rendering alike (a plain ``<details>`` element, no widget state).
"""

from __future__ import annotations

from html import escape

from .fmt import shorten
from .markdown import render_markdown
from .state import OperationState, Thought

_LINE = "margin:2px 0;opacity:0.8;font-size:12px"
_BODY = "margin:2px 0 4px 18px;padding-left:8px;border-left:2px solid rgba(127,127,127,0.35)"


def _headline(text: str) -> str:
    """The summary's first line, without Markdown bold markers (models title it **so**)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return shorten(first.strip("*# ").replace("**", ""), 120)


def thought_html(thought: Thought) -> str:
    """One collapsed line: who thought, for what, and the summary's first line."""
    who = f"{thought.role} · {thought.purpose}"
    return (
        f'<details class="mira-thinking" style="{_LINE}" data-mira-call="{escape(thought.call_id)}">'
        f"<summary>∴ <i>thinking</i> <span>({escape(who)})</span> "
        f"{escape(_headline(thought.text))}</summary>"
        f'<div class="mira-thinking-text" style="{_BODY}">{render_markdown(thought.text)}</div>'
        "</details>"
    )


def thinking_html(state: OperationState) -> str:
    """Every call's thinking line, in the order the calls finished."""
    return "".join(thought_html(t) for t in state.thoughts)


def thinking_lines(state: OperationState) -> list[str]:
    """Plain-text thinking lines (for the text view): one line per call."""
    return [f"∴ thinking ({t.role} · {t.purpose}): {_headline(t.text)}" for t in state.thoughts]
