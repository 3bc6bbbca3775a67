"""DataFrames the subcommands return, shown in Jupyter without maths-typeset dollars.

``%mira costs``, ``history`` and ``models`` return pandas DataFrames whose cells read
``$0.0123 (at most $0.0200)``; JupyterLab runs MathJax over HTML outputs, and two dollars
in one cell become maths. The frames are a DataFrame subclass whose HTML is wrapped in the
classes MathJax skips (see core.markup); everything else about them is pandas'.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..core.markup import maths_free_html


class LogFrame(pd.DataFrame):
    """A DataFrame whose notebook HTML is never typeset as maths."""

    @property
    def _constructor(self) -> type[LogFrame]:
        return LogFrame

    def _repr_html_(self) -> str | None:
        html = super()._repr_html_()
        return None if html is None else maths_free_html(html)


def log_frame(frame: pd.DataFrame) -> LogFrame:
    """`frame` as a LogFrame (same data, same ``attrs``)."""
    if isinstance(frame, LogFrame):
        return frame
    out = LogFrame(frame)
    out.attrs = dict(frame.attrs)
    return out


def maths_free(value: Any) -> Any:
    """A DataFrame as a LogFrame; anything else unchanged."""
    return log_frame(value) if isinstance(value, pd.DataFrame) else value


# what %mira history shows unless --all is given: what a person scans the log for
HISTORY_COLUMNS = ("operation_id", "started", "status", "mode", "request", "cost", "duration")
REQUEST_CHARS = 80


def _duration(seconds: Any) -> str:
    from ..ui.fmt import fmt_ms

    return "" if seconds is None or pd.isna(seconds) else fmt_ms(float(seconds) * 1000)


def readable_history(frame: pd.DataFrame) -> LogFrame:
    """The history frame cut to `HISTORY_COLUMNS`: started in local time to the second, the
    request's first 80 characters, the cost in words, the duration as '4.9 s'."""
    from dateutil.tz import tzlocal

    from ..store.analytics import cost_labels
    from ..ui.fmt import shorten

    started = pd.to_datetime(frame["started_at"], utc=True)
    shown = pd.DataFrame(
        {
            "operation_id": frame["operation_id"],
            "started": started.dt.tz_convert(tzlocal()).dt.tz_localize(None).dt.floor("s"),
            "status": frame["status"],
            "mode": frame["mode"],
            "request": [shorten(str(r or ""), REQUEST_CHARS) for r in frame["request"]],
            "cost": cost_labels(frame) if len(frame) else [],
            "duration": [_duration(s) for s in frame["duration_s"]],
        },
        columns=list(HISTORY_COLUMNS),
    )
    shown.attrs = dict(frame.attrs)
    return log_frame(shown)
