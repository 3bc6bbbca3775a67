"""How many widgets a live card makes per cell: each is a comm opened and its state sent, the
main cost of showing a cell (real ipywidgets objects, counted in ipywidgets' registry)."""

from __future__ import annotations

from collections import Counter

import ipywidgets
from test_ui_widget import make

from mira_jupyter.ui.demo import planned_operation


def _live() -> dict:
    return dict(ipywidgets.widgets.widget._instances)  # every open widget, by model id


def _made_by(events) -> tuple[Counter, object]:
    before = set(_live())
    widget, *_ = make(on_stop=lambda _op: None)
    for event in events:
        widget(event)
    widget.flush()
    made = {k: v for k, v in _live().items() if k not in before}
    return Counter(type(w).__name__ for w in made.values()), widget


def test_a_second_card_shares_the_layouts_and_styles_of_its_text_parts():
    _made_by(planned_operation(1)[:3])  # the kernel's first card
    made, widget = _made_by(planned_operation(3)[:6])
    # was 66: a Layout and an HTMLStyle per HTML part, and an 18-widget approval panel
    assert sum(made.values()) <= 30, made
    assert made["HTMLStyle"] == 0 and made["Layout"] <= 10, made
    assert widget._approval is None  # no change waited


def test_showing_and_hiding_a_part_never_changes_the_shared_layouts():
    _, first = _made_by(planned_operation(2))
    _, second = _made_by(planned_operation(2)[:1])
    hidden, shown = second._w["answer"].layout, second._w["header"].layout
    assert hidden.display == "none" and shown.display == ""
    assert first._w["answer"].layout is shown  # the finished first card shows its answer
    assert second._w["footer"].layout.display in ("", "none")


def test_a_closed_shared_layout_is_made_again():
    _, first = _made_by(planned_operation(1)[:1])
    first._w["header"].layout.close()  # e.g. Widget.close_all() in a test or a frontend reset
    _, second = _made_by(planned_operation(1)[:1])
    assert second._w["header"].layout.comm is not None
