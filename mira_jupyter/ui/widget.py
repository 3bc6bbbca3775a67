"""The live ipywidgets view of one operation.

Events are folded into an OperationState at once, but widgets are re-rendered at most every
``interval`` seconds: a model streaming thousands of deltas must not send thousands of comm
messages. A timer flushes what is left when the stream pauses, and OperationFinished flushes
at once and swaps the widget for the static rendering, so the saved notebook needs no widget
state. Clock, timer and display are injectable so that tests are deterministic.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any

from ..core.events import Event
from .colors import ERROR, tone
from .insert_buttons import InsertButtons
from .live_style import live_style_html, shared_model
from .state import OperationState
from .static import (
    BOX_STYLE,
    activity_html,
    answer_html,
    footer_html,
    header_html,
    notices_html,
    plan_html,
    render_static,
    tasks_html,
    tool_summary,
    tools_table_html,
)
from .text import header_line
from .thinking import thinking_html
from .widget_sections import ALL, sections_for

log = logging.getLogger(__name__)

Callback = Callable[[str], Any]
Scheduler = Callable[[float, Callable[[], None]], Any]

TICK_SECONDS = 1.0  # how often the elapsed time of a running task is refreshed

def _thread_timer(delay: float, callback: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(delay, callback)
    timer.daemon = True
    timer.start()
    return timer


class OperationWidget:
    """A live widget for one operation; call it with each event (it is a bus sink)."""

    def __init__(
        self,
        *,
        on_stop: Callback | None = None,
        on_run: Callback | None = None,
        on_insert: Callback | None = None,
        on_decide: Callable[[str, bool], bool] | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        schedule: Scheduler | None = _thread_timer,
        display: Callable[..., Any] | None = None,
        autodisplay: bool = True,
    ) -> None:
        """`on_stop(op_id)` / `on_run(op_id)` back the buttons, `on_insert(code)` each code
        block's "Insert as cell" button, `on_decide(approval_id, approved)` the Approve and
        Reject buttons of a change that waits; `schedule=None` disables the timer."""
        self.state = OperationState()
        self.on_stop = on_stop
        self.on_run = on_run
        self.on_insert = on_insert
        self.on_decide = on_decide
        self.interval = interval
        self.render_count = 0
        self.closed = False
        self.static_bundle: dict[str, str] | None = None
        self._clock = clock
        self._now = now
        self._schedule = schedule
        self._display = display
        self._autodisplay = autodisplay
        self._lock = threading.RLock()
        self._dirty: set[str] = set()
        self._last_render = float("-inf")
        self._timer_due: float | None = None
        self._run_requested = False
        self._plan_folded = False
        self._failed = False  # logged once; later events still fold into the state
        self._handle: Any = None
        self._w: dict[str, Any] = {}
        self._cache: dict[str, Any] = {}
        self._inserts: InsertButtons | None = None
        self._approval: Any = None  # the ApprovalPanel, made when a change first waits
        self.root: Any = None

    @property
    def inserted(self) -> list[str]:
        """The code blocks put into new cells with the Insert as cell buttons, in order."""
        return self._inserts.inserted if self._inserts is not None else []

    @property
    def can_ask(self) -> bool:
        """Whether this view can answer an approval (it has Approve and Reject buttons)."""
        return self.on_decide is not None

    # -- the sink ----------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Fold one event; render now if the last render is old enough, else later."""
        with self._lock:
            if self.closed:
                return
            self.state.apply(event)
            self._dirty |= sections_for(event)
            try:
                self._paint(event)
            except Exception:  # the view is callable directly, not only via the bus
                if not self._failed:
                    log.exception("mira: the operation widget failed to render %s", event.type)
                self._failed = True

    def _paint(self, event: Event) -> None:
        # a resumed plan shown in a new view (%mira run) may start with OperationResumed
        starts = event.type in ("OperationStarted", "OperationResumed")
        if starts and self._autodisplay and self._handle is None:
            self.show()
        elif event.type == "OperationFinished":
            self.flush()
            self.close_and_render_static()
        elif self._clock() - self._last_render >= self.interval:
            self.flush()
        else:
            self._arm_timer(self.interval - (self._clock() - self._last_render))

    def show(self) -> Any:
        """Build the widget, render it and display it in the current cell; returns the handle."""
        with self._lock:
            self.build()
            self._dirty |= ALL
            self.flush()
            display = self._display
            if display is None:
                from IPython.display import display
            self._handle = display(self._live_bundle(), raw=True, display_id=True)
            return self._handle

    def _live_bundle(self) -> dict[str, Any]:
        # a stable text/plain instead of the widget repr: runners that ignore display
        # updates (nbval) and frontends without widgets record this line
        return {**self.root._repr_mimebundle_(), "text/plain": header_line(self.state)}

    # -- rendering -----------------------------------------------------------------------

    def build(self) -> Any:
        """Create the widget tree (once); returns the root widget."""
        if self.root is not None:
            return self.root
        import ipywidgets as w

        self._hidden = shared_model("hidden", lambda: w.Layout(display="none"))
        self._shown = shared_model("shown", lambda: w.Layout(display=""))
        from ipywidgets.widgets.widget_string import HTMLStyle  # not exported at the top level

        style = shared_model("html style", HTMLStyle)
        names = ("header", "plan", "tasks", "tools", "thinking", "notices", "activity", "answer", "footer")
        # hidden until _set has something to say
        html = {name: w.HTML(layout=self._hidden, style=style) for name in names}
        plan_box = w.Accordion(children=[html["plan"]], titles=("Plan",), selected_index=0)
        tool_box = w.Accordion(children=[html["tools"]], titles=("Tool calls (0)",))
        plan_box.add_class("mira-plan-box")  # its title is bold, as in the card
        stop = w.Button(description="Stop", icon="stop", button_style="danger", tooltip="Stop")
        run = w.Button(description="Run plan", icon="play", button_style="success", disabled=True)
        stop.on_click(self._stop_clicked)
        run.on_click(self._run_clicked)
        run_output = w.Output()
        self._inserts = InsertButtons(self.on_insert, self._report, self._say_once)
        inserts = self._inserts.box
        buttons = w.HBox([stop, run])
        for box in (plan_box, tool_box, buttons):
            box.layout.display = "none"
        self._w = html | {
            "plan_box": plan_box,
            "tool_box": tool_box,
            "stop": stop,
            "run": run,
            "buttons": buttons,
            "run_output": run_output,
            "inserts": inserts,
        }
        # the border and font match the static rendering this widget turns into
        box = dict(part.split(":", 1) for part in BOX_STYLE.split(";") if part)
        style_sheet = w.HTML(live_style_html(), layout=self._hidden, style=style)
        self.root = w.VBox(
            # the approval panel goes after the tasks when a change first waits (_approval_panel)
            [style_sheet, html["header"], plan_box, html["tasks"], tool_box, html["thinking"], html["notices"]]
            + [html["activity"], html["answer"], inserts, html["footer"], buttons, run_output],
            # JupyterLab pads an HTML output 20px on the right (.jp-RenderedHTMLCommon), not a
            # widget: the same room on the right keeps the lines of both the same length
            layout=w.Layout(border=box["border"], padding=box["padding"], margin="2px 20px 2px 0"),
        )
        self.root.add_class("mira-operation-widget")
        # "$0.01 … $0.02" must not become maths (MathJax 2 and 3 class names)
        self.root.add_class("tex2jax_ignore")
        self.root.add_class("mathjax_ignore")
        self._w["root"] = self.root
        return self.root

    def flush(self) -> None:
        """Render every part changed since the last render (no-op if nothing changed)."""
        with self._lock:
            if self.root is None or not self._dirty:
                return
            dirty, self._dirty = self._dirty, set()
            self._render(dirty)
            self.render_count += 1
            self._last_render = self._clock()
            if not self.state.finished and self.state.task_counts()["in_progress"]:
                self._arm_timer(TICK_SECONDS)

    def _set(self, name: str, value: str) -> None:
        # ipywidgets only sends a comm message when a trait really changes
        self._w[name].value = value
        # an empty HTML widget still takes a 28px line: hide it until it has something
        self._w[name].layout = self._shown if value else self._hidden

    def _render(self, dirty: set[str]) -> None:
        s = self.state
        if "header" in dirty:
            self._set("header", header_html(s))
        if "plan" in dirty and self._cache.get("plan") != s.plan:
            self._cache["plan"] = s.plan
            self._set("plan", plan_html(s))
            self._w["plan_box"].layout.display = "" if s.plan else "none"
        if "tasks" in dirty:
            now = s.finished_at or self._now()
            self._set("tasks", tasks_html(s, now))
            if s.tasks and not self._plan_folded:
                # the checklist now tells the plan's story; the user can unfold the prose
                self._plan_folded = True
                self._w["plan_box"].selected_index = None
        if "tools" in dirty and s.tool_calls:
            self._set("tools", tools_table_html(s))
            self._w["tool_box"].set_title(0, tool_summary(s))
            self._w["tool_box"].layout.display = ""
        if "thinking" in dirty:
            self._set("thinking", thinking_html(s))
        if "notices" in dirty:
            self._set("notices", notices_html(s))
        # the error joins the answer at the end: part of what decides a re-render
        answer_key = (s.answer, s.answer_mark, s.error if s.finished else None)
        if "answer" in dirty and self._cache.get("answer") != answer_key:
            self._cache["answer"] = answer_key
            self._set("answer", answer_html(s))
        if "activity" in dirty:
            self._set("activity", activity_html(s))
        if "footer" in dirty:
            self._set("footer", footer_html(s))
        if "buttons" in dirty:
            self._render_buttons()
        if "approval" in dirty:
            waiting = None if s.finished else s.waiting_approval
            if waiting is not None or self._approval is not None:
                self._approval_panel().show(waiting)

    def _approval_panel(self) -> Any:
        """The approval panel, made (and put after the tasks) when a change first waits:
        most operations never ask, and the panel is 18 widgets."""
        if self._approval is None:
            from .approval_panel import ApprovalPanel

            self._approval = ApprovalPanel(self.on_decide)
            children = list(self.root.children)
            children.insert(children.index(self._w["tasks"]) + 1, self._approval.root)
            self.root.children = children
            self._w["approval"] = self._approval.root
        return self._approval

    def _render_buttons(self) -> None:
        s = self.state
        stop, run = self._w["stop"], self._w["run"]
        stop.layout.display = "" if self.on_stop and not s.finished else "none"
        show_run = bool(self.on_run and s.plan_only)
        run.layout.display = "" if show_run else "none"
        run.disabled = not (show_run and s.status == "planned") or self._run_requested
        visible = (stop.layout.display != "none") or show_run
        self._w["buttons"].layout.display = "" if visible else "none"

    def _arm_timer(self, delay: float) -> None:
        if self._schedule is None:
            return
        due = self._clock() + max(delay, 0.0)
        if self._timer_due is not None and self._timer_due <= due:
            return  # an earlier timer will flush this too
        self._timer_due = due

        def fire() -> None:
            with self._lock:
                if self._timer_due == due:
                    self._timer_due = None
                if self.closed:
                    return
                if not self.state.finished and self.state.task_counts()["in_progress"]:
                    self._dirty.add("tasks")  # the elapsed time of the running task moved on
                self.flush()

        self._schedule(max(delay, 0.0), fire)

    # -- the end -------------------------------------------------------------------------

    def _keeps_live(self) -> bool:
        # a plan waiting for its Run button, or code waiting for its Insert buttons, stays interactive
        waiting_code = self._inserts is not None and bool(self._inserts.blocks(self.state))
        return bool(self.on_run and self.state.status == "planned") or waiting_code

    def close_and_render_static(self) -> dict[str, str]:
        """Swap the live widget for the static rendering; returns that mimebundle."""
        with self._lock:
            bundle = render_static(self.state)
            self.static_bundle = bundle
            if self._inserts is not None:
                self._inserts.render(self.state)
            if self._keeps_live():
                if self._handle is not None:
                    self._handle.update({**self._live_bundle(), **bundle}, raw=True)
                return bundle
            if self._handle is not None:
                self._handle.update(bundle, raw=True)
            self.close()
            return bundle

    def close(self) -> None:
        """Close every widget (frees their comms); the view ignores later events."""
        with self._lock:
            self.closed = True
            for widget in self._w.values():
                widget.close()
            if self._approval is not None:
                self._approval.close()
            if self._inserts is not None:
                self._inserts.close()

    # -- buttons -------------------------------------------------------------------------

    def _say_once(self, text: str) -> None:
        line = f'<div style="{tone(ERROR)}">{escape(text)}</div>'
        if line not in self._w["notices"].value:
            self._w["notices"].value += line
            self._w["notices"].layout = self._shown  # hidden while it had nothing to say

    def _report(self, what: str, exc: BaseException) -> None:
        # said in the card; the traceback goes to the debug log, not into the cell a second time
        log.debug("mira: %s failed", what, exc_info=exc)
        self._say_once(f"{what} failed: {exc}")

    def _stop_clicked(self, _button: Any = None) -> None:
        stop = self._w["stop"]
        if stop.disabled or self.on_stop is None:
            return
        stop.disabled = True
        stop.description = "Stopping…"
        try:
            self.on_stop(self.state.operation_id)
        except Exception as exc:  # a broken callback must not break the view
            self._report("Stop", exc)

    def _run_clicked(self, _button: Any = None) -> None:
        run = self._w["run"]
        if run.disabled or self.on_run is None:
            return
        self._run_requested = True
        run.disabled = True
        run.description = "Running…"
        failure = None
        # a button callback has no cell: what the run displays goes into this Output
        with self._w["run_output"]:
            try:
                started = self.on_run(self.state.operation_id)
            except Exception as exc:  # caught here: in a kernel the Output prints and swallows it
                failure = exc
        if failure is not None:
            self._run_failed(failure)
            return
        # the plan runs on as a task of the kernel's loop: its failure is said here, not in a log
        if isinstance(started, asyncio.Future):
            started.add_done_callback(self._run_task_done)
        # otherwise "Running…" stays: the plan may still be running in this widget

    @property
    def run_output(self) -> Any:
        """The Output that catches what a run started by the Run button prints."""
        self.build()
        return self._w["run_output"]

    def _run_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._report("Run", exc)
            self._w["run"].description = "Run failed"
            self._w["run"].layout.display = ""

    def _run_task_done(self, task: asyncio.Future) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._run_failed(task.exception())
