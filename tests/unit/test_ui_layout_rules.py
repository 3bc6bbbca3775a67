"""The card's layout rules that can be checked without a browser (tests/browser/test_layout_browser.py
measures them in JupyterLab): stopped tasks, the stop reason once, theme-following colours,
unbreakable model names, a tool table that cannot overlap, a chart that follows the theme."""

from __future__ import annotations

import re

import pandas as pd

from mira_jupyter.engine.engine import _SETTLE_REASONS
from mira_jupyter.ui.colors import ERROR, tone
from mira_jupyter.ui.demo import planned_operation, stopped_operation
from mira_jupyter.ui.state import SETTLE_REASONS, OperationState
from mira_jupyter.ui.static import render_html, render_markdown_summary
from mira_jupyter.ui.text import render_text


def state_of(events) -> OperationState:
    state = OperationState()
    for event in events:
        state.apply(event)
    return state


def test_tasks_closed_by_a_stop_are_not_started_or_stopped_never_failed():
    state = state_of(stopped_operation(4, stop_in=2))
    assert [t.status for t in state.ordered_tasks()] == ["completed", "stopped", "not_started", "not_started"]
    html = render_html(state)
    assert html.count('data-mira-task-status="not_started"') == 2 and "✗" not in html
    assert html.count("(not started)") == 2


def test_the_stop_reason_is_said_once_in_every_view():
    state = state_of(stopped_operation(4))
    for view in (render_html(state), render_text(state), render_markdown_summary(state)):
        assert view.count("stopped with the Stop button") == 1, view
        assert "cancelled by user" not in view, view


def test_a_real_failure_still_reads_failed_with_its_reason():
    state = state_of(planned_operation(3, fail_task=2))
    assert state.tasks["task_02"].status == "failed"
    html = render_html(state)
    assert "tests still fail: 1 error" in html and html.count("✗") == 1


def test_the_views_know_every_reason_the_engine_closes_tasks_with():
    assert frozenset(_SETTLE_REASONS.values()) == SETTLE_REASONS


def test_colours_mix_with_the_theme_text_and_keep_a_plain_fallback():
    style = tone(ERROR)
    assert style.startswith(f"color:{ERROR};")
    assert "color-mix(in srgb,#cf222e 65%,var(--jp-content-font-color1" in style
    html = render_html(state_of(planned_operation(3, fail_task=2)))
    # no bare fixed text colour is left (badges keep white on their own colour)
    bare = re.findall(r"(?<![-\w])color:#(?!fff\b)[0-9a-f]{6}(?!;color:color-mix)", html)
    assert bare == [], bare


def test_model_names_never_break_and_the_tool_table_cannot_overlap():
    html = render_html(state_of(planned_operation(3)))
    models = re.findall(r'<code data-mira-model style="[^"]*white-space:nowrap">([^<]+)</code>', html)
    assert models == ["openai:gpt-5", "deepseek:deepseek-chat"]
    # the tool log is rows of wrapping parts, not table columns that can run into each other
    assert "<table" not in html and html.count("data-mira-tool-status=") == 4
    assert "flex-wrap:wrap" in html and "overflow-wrap:anywhere" in html


def test_the_costs_chart_is_inline_svg_in_the_theme_colour_with_turned_labels():
    from mira_jupyter.notebook.costs_chart import INK, chart_html

    frame = pd.DataFrame(
        {
            "provider": ["compatible", "compatible", "openai"],
            "model": ["deepseek-chat", "deepseek-reasoner", "gpt-5-mini"],
            "cost_usd": [0.0123, 0.2040, 0.0561],
        }
    )
    frame.attrs.update(by="model", totals={"cost_usd": 0.2724})
    html = chart_html(frame, "model")
    assert html.startswith('<div class="mira-costs-chart"') and "<svg" in html
    assert INK not in html and "currentColor" in html
    assert "<style" not in html  # matplotlib's page-wide "*" rule is dropped
    assert "<text" in html  # text, not paths: it takes the theme's colour
    assert "rotate(-30" in html  # long model names are turned, not left to collide


def test_the_live_widget_shows_the_stop_reason_at_the_end_like_the_card():
    # the answer part re-rendered only when the answer text changed: a stop with no answer
    # left the reason out of the live widget's last frame, so the cell changed at the swap
    from mira_jupyter.ui import OperationWidget

    widget = OperationWidget(schedule=None, display=lambda *a, **k: None)
    widget.close_and_render_static = widget.flush  # keep the last live frame
    for event in stopped_operation(4):
        widget(event)
    assert "stopped with the Stop button" in widget._w["answer"].value
    assert widget._w["answer"].layout.display == ""


def test_costs_draws_the_theme_chart_under_widgets_and_matplotlibs_elsewhere(monkeypatch):
    from types import SimpleNamespace

    from mira_jupyter.notebook import costs_chart, subcommands
    from mira_jupyter.store import analytics

    drawn = []
    monkeypatch.setattr(costs_chart, "show_chart", lambda frame, by: drawn.append(("svg", by)))
    monkeypatch.setattr(analytics, "plot_costs", lambda frame, by: drawn.append(("png", by)))

    class ZMQInteractiveShell:  # a kernel by class name
        pass

    for shell, view in ((ZMQInteractiveShell(), "auto"), (ZMQInteractiveShell(), "text"), (None, "auto")):
        magics = SimpleNamespace(shell=shell, session=SimpleNamespace(config=SimpleNamespace(view=view)))
        subcommands._chart(magics, pd.DataFrame(), "model")
    assert drawn == [("svg", "model"), ("png", "model"), ("png", "model")]
