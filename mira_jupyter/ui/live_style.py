"""The stylesheet that makes the live widget lay out like the static card it turns into.

ipywidgets gives every HTML widget a 28px line-height and a 2px margin, and draws an
Accordion as a grey bar with a border: left alone, the live widget is taller than the card
that replaces it, and the cell jumps when the operation ends. These rules (scoped to the
widget's own class, doubled to win over ipywidgets' equally specific ones) give its parts
the card's font, line height and spacing, and draw an Accordion like the card's
``<details>``. A ``<style>`` in a hidden HTML part still applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .static import FONT

_ROOT = ".mira-operation-widget.mira-operation-widget"

LIVE_CSS = f"""
{_ROOT} {{ border-radius: 6px; {FONT}; font-size: 13px; line-height: 1.45; }}
{_ROOT} .jupyter-widgets, {_ROOT} .widget-html {{ margin: 0; }}
{_ROOT} .jupyter-widget-html, {_ROOT} .widget-html {{ font-size: 13px; {FONT}; }}
{_ROOT} .jupyter-widget-html-content, {_ROOT} .widget-html-content {{ line-height: 1.45; min-width: 0; }}
{_ROOT} .jupyter-widget-Collapse-header {{
  background: none; border: none; padding: 0; margin-top: 6px; color: inherit;
  font-weight: normal; line-height: 1.45;
}}
{_ROOT} .jupyter-widget-Collapse-open > .jupyter-widget-Collapse-header {{ background: none; color: inherit; }}
{_ROOT} .mira-plan-box .jupyter-widget-Collapse-header span {{ font-weight: bold; }}
{_ROOT} .jupyter-widget-Collapse-header .fa {{ width: 1em; margin-right: 0.25em; }}
{_ROOT} .jupyter-widget-Collapse-contents {{
  background: none; border: none; padding: 0; color: inherit; overflow: visible;
}}
{_ROOT} .jupyter-widget-hbox {{ margin-top: 6px; }}
"""


def live_style_html() -> str:
    """The ``<style>`` element for the live widget."""
    return f"<style>{LIVE_CSS}</style>"


# Layout and style models every card of the kernel shares. Each widget otherwise gets its
# own Layout and HTMLStyle, each a comm opened and its state sent: they were two thirds of
# the 66 widgets a card made per cell, for a hidden/shown flag and an unchanged style.
# Never mutated: a part is shown or hidden by pointing it at the other shared layout.
_SHARED: dict[str, Any] = {}


def shared_model(name: str, make: Callable[[], Any]) -> Any:
    """The kernel's shared `name` model, made again if it was closed (Widget.close_all)."""
    part = _SHARED.get(name)
    if part is None or part.comm is None:
        part = _SHARED[name] = make()
    return part
