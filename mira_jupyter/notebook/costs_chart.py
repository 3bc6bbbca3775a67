"""The ``%mira costs`` chart in a live notebook: inline SVG that follows the JupyterLab theme.

Matplotlib's inline PNG is a white box in the dark theme. Here the figure is drawn with a
transparent background and a placeholder colour for its text and axes, saved as SVG with
real ``<text>`` elements, and the placeholder becomes ``currentColor``: the chart takes the
theme's text colour from the output it sits in. Crowded x labels are turned, so that they
never collide. (With ``Mira.view = "text"``, as under nbval, the PNG chart is kept.)
"""

from __future__ import annotations

import io
import re
from typing import Any

# a colour no chart uses, replaced by currentColor in the SVG
INK = "#010203"
_RC = {
    "svg.fonttype": "none",  # <text>, not paths: the theme's colour and font reach it
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.transparent": True,
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.color": INK,
    "legend.edgecolor": INK,
}
# matplotlib's stylesheet sets stroke joins on every element of the page ("*")
_GLOBAL_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)
# x labels are turned once the widest one needs more room than a bar has (in characters)
_ROOM_PER_BAR = 9


def chart_html(frame: Any, by: str) -> str:
    """The cost chart of a `costs` frame as an HTML fragment holding an inline SVG."""
    import matplotlib.pyplot as plt

    from ..store import analytics

    with plt.rc_context(_RC):
        figure, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(frame) + 2), 4))
        try:
            analytics.plot_costs(frame, by, ax=ax)
            _turn_crowded_labels(ax)
            figure.tight_layout()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg")
        finally:
            plt.close(figure)  # or the inline backend shows it again, as a PNG
    svg = _GLOBAL_STYLE.sub("", buffer.getvalue().replace(INK, "currentColor"))
    svg = svg[svg.index("<svg") :]  # no XML prolog or doctype inside HTML
    svg = svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
    return (
        '<div class="mira-costs-chart" '
        f'style="color:var(--jp-content-font-color1,#1f2328)">{svg}</div>'
    )


def _turn_crowded_labels(ax: Any) -> None:
    labels = ax.get_xticklabels()
    if not labels:
        return
    widest = max(len(label.get_text()) for label in labels)
    if len(labels) > 3 or widest > _ROOM_PER_BAR:
        for label in labels:
            label.set_rotation(30)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")


def show_chart(frame: Any, by: str) -> None:
    """Display the chart in the current output."""
    from IPython.display import display

    display({"text/html": chart_html(frame, by), "text/plain": f"<cost chart by {by}>"}, raw=True)
