"""Every event type is handled, or explicitly ignored, by each table that dispatches on it.

Like IPython's magic-table test: a new event in core/events.py fails here, by name, until
the recorder, the view state, the widget and the text view each say what they do with it.
"""

from typing import get_args

import pytest

from mira_jupyter.core.events import Event
from mira_jupyter.store import rows
from mira_jupyter.ui import widget_sections
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.text import TextView

EVENT_TYPES = sorted(cls.__name__ for cls in get_args(get_args(Event)[0]))


def _handled(owner: type) -> set[str]:
    return {name.removeprefix("_on_") for name in dir(owner) if name.startswith("_on_")}


TABLES = {
    "store/rows.py _HANDLERS (+ NO_ROWS)": (
        {cls.__name__ for cls in rows._HANDLERS},
        set(rows.NO_ROWS),
    ),
    "ui/state.py OperationState._on_*": (_handled(OperationState), set()),
    "ui/widget_sections.py SECTIONS (+ BY_CHANNEL)": (set(widget_sections.SECTIONS), set(widget_sections.BY_CHANNEL)),
    "ui/text.py TextView._on_* (+ SILENT)": (_handled(TextView), set(TextView.SILENT)),
}


def test_the_event_union_is_what_we_think_it_is():
    assert len(EVENT_TYPES) >= 16 and "OperationResumed" in EVENT_TYPES


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_event_is_handled_or_listed_as_ignored(table):
    handled, ignored = TABLES[table]
    missing = [name for name in EVENT_TYPES if name not in handled | ignored]
    assert missing == [], f"{table} says nothing about: {', '.join(missing)}"
    stale = sorted((handled | ignored) - set(EVENT_TYPES))
    assert stale == [], f"{table} names events that do not exist: {', '.join(stale)}"
    assert not handled & ignored, f"{table} both handles and ignores {sorted(handled & ignored)}"


@pytest.mark.parametrize("cls", get_args(get_args(Event)[0]), ids=lambda cls: cls.__name__)
def test_each_events_type_string_is_its_class_name(cls):
    # the view state and the text view dispatch on event.type, the tables above on class
    # names: the two agree only while every type string is its class's name
    assert cls.model_fields["type"].default == cls.__name__
