"""The collapsed "thinking" lines in the static, widget and text views."""

from __future__ import annotations

import io

from mira_jupyter.core.events import ReasoningSummary
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.static import render_static
from mira_jupyter.ui.text import TextView
from mira_jupyter.ui.thinking import thinking_html

HOSTILE = '**Plan <img src=x onerror="alert(1)">**\n\n<script>alert(2)</script> then `code`'


def _state(*texts: str) -> OperationState:
    state = OperationState()
    for n, text in enumerate(texts):
        state.apply(
            ReasoningSummary(operation_id="op_1", call_id=f"call_{n}", role="orchestrator", purpose="plan", text=text)
        )
    return state


def test_each_call_gets_one_folded_line():
    html = thinking_html(_state("**First**\n\nbody one", "second"))
    assert html.count("<details") == 2 and "<details open" not in html
    assert 'data-mira-call="call_0"' in html and 'data-mira-call="call_1"' in html
    assert "First</summary>" in html.replace("**", "")  # the headline, without bold markers


def test_model_text_cannot_inject_html():
    html = render_static(_state(HOSTILE))["text/html"]
    assert "<script" not in html and "<img" not in html and "onerror=\"alert" not in html
    assert "&lt;script&gt;" in html or "&lt;script" in html


def test_text_view_prints_one_line_per_summary():
    out = io.StringIO()
    view = TextView(out)
    view(ReasoningSummary(operation_id="op_1", call_id="c", role="orchestrator", purpose="compose",
                          text="**Writing the answer**\n\nkeep it short"))
    assert out.getvalue() == "∴ thinking (orchestrator · compose): Writing the answer\n"


def test_live_widget_shows_a_thinking_line_as_the_summary_arrives():
    from test_ui_widget import make

    from mira_jupyter.ui.demo import DEMO_OP, planned_operation

    widget, clock, _, _ = make()
    events = planned_operation(2, finish=False)
    for event in events:
        widget(event)
    assert widget._w["thinking"].value == ""
    clock.t += 1
    widget(ReasoningSummary(operation_id=DEMO_OP, call_id="call_x", role="orchestrator", purpose="orchestrate",
                            text="**Checking the dates**\n\nEmpty dates are dropped in parse()."))
    value = widget._w["thinking"].value
    assert value.count('class="mira-thinking"') == 1 and "Checking the dates" in value
    assert "<details open" not in value
