"""OperationWidget with real ipywidgets objects, driven by hand-made event sequences."""

from __future__ import annotations

import re
from datetime import timedelta

import ipywidgets

from mira_jupyter.core.events import OperationFinished, TaskStarted, TextDelta
from mira_jupyter.ui.demo import DEMO_OP, T0, plan_only_operation, planned_operation
from mira_jupyter.ui.fmt import fmt_span
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.widget import OperationWidget

NOW = T0 + timedelta(seconds=60)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class FakeScheduler:
    """Records timers instead of starting threads; tests fire them by hand."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, object]] = []

    def __call__(self, delay, callback):
        self.pending.append((delay, callback))

    def fire_all(self) -> None:
        pending, self.pending = self.pending, []
        for _, callback in pending:
            callback()


class FakeHandle:
    def __init__(self, bundle) -> None:
        self.bundles = [bundle]

    def update(self, bundle, raw=False):
        assert raw
        self.bundles.append(bundle)


class FakeDisplay:
    def __init__(self) -> None:
        self.handles: list[FakeHandle] = []

    def __call__(self, bundle, raw=False, display_id=None):
        assert raw and display_id
        self.handles.append(FakeHandle(bundle))
        return self.handles[-1]


def make(**kwargs):
    clock, scheduler, display = FakeClock(), FakeScheduler(), FakeDisplay()
    now = kwargs.pop("now", lambda: NOW)
    widget = OperationWidget(clock=clock, schedule=scheduler, display=display, now=now, **kwargs)
    return widget, clock, scheduler, display


def statuses(widget) -> list[str]:
    return re.findall(r'data-mira-task-status="(\w+)"', widget._w["tasks"].value)


def test_first_event_displays_the_widget_with_the_request_and_models():
    widget, _, _, display = make()
    widget(planned_operation(3)[0])
    assert len(display.handles) == 1
    bundle = display.handles[0].bundles[0]
    assert bundle[WIDGET_MIME]["model_id"] == widget.root.model_id
    assert bundle["text/plain"].startswith(f"mira {DEMO_OP} · planned (auto)")
    assert isinstance(widget.root, ipywidgets.VBox)
    header = widget._w["header"].value
    assert "CSV loader drops rows" in header
    assert "openai:gpt-5" in header and "deepseek:deepseek-chat" in header
    assert "complexity 0.31: mentions a fix and a test; touches several files" in header


def test_twelve_tasks_move_through_their_states():
    events = planned_operation(12, fail_task=9, finish=False)
    widget, clock, _, _ = make()
    seen_in_progress = []
    for event in events:
        clock.t += 1  # every event is rendered at once
        widget(event)
        if isinstance(event, TaskStarted):
            seen_in_progress.append(statuses(widget).index("in_progress"))
            tasks = widget._w["tasks"].value
            assert "◐" in tasks and "Working on step" in tasks
            elapsed = fmt_span(widget.state.tasks[event.task_id].started_at, NOW)
            assert f"({elapsed})" in tasks
    assert seen_in_progress == list(range(12))
    assert statuses(widget) == ["completed"] * 8 + ["failed"] + ["completed"] * 3
    tasks = widget._w["tasks"].value
    assert tasks.count("✓") == 11 and tasks.count("✗") == 1
    assert "tests still fail: 1 error" in tasks
    assert "11/12 done" in tasks
    # the plan is there, folded once the checklist exists
    assert "Step 12 of the fix" in widget._w["plan"].value
    assert widget._w["plan_box"].layout.display == ""
    assert widget._w["plan_box"].selected_index is None


def test_tool_calls_and_the_denial_are_logged_in_a_collapsible_section():
    widget, clock, _, _ = make()
    for event in planned_operation(3, finish=False):
        clock.t += 1
        widget(event)
    box = widget._w["tool_box"]
    assert isinstance(box, ipywidgets.Accordion)
    assert box.titles == ("Tool calls (4: 1 denied, 3 ok)",)
    assert box.selected_index is None  # collapsed until the user opens it
    table = widget._w["tools"].value
    assert table.count('data-mira-tool-status="ok"') == 3
    assert "denied: path escapes the project root" in table
    assert "write_file" in table and "../etc/passwd" in table
    assert "12 ms" in table and "executor" in table


def test_5000_deltas_are_coalesced_into_a_bounded_number_of_renders():
    answer_lines = [f"line {i} with some **markdown**\n" for i in range(5000)]
    widget, clock, scheduler, display = make()
    for event in planned_operation(2, finish=False):
        widget(event)
    changes = []
    widget._w["answer"].observe(lambda change: changes.append(change), names="value")
    renders_before = widget.render_count
    for i, line in enumerate(answer_lines):
        clock.t += 0.001  # 5000 deltas over 5 seconds
        widget(TextDelta(operation_id=DEMO_OP, seq=1000 + i, text=line))
    # at most one render per 100 ms window, plus the first
    assert widget.render_count - renders_before <= 51
    assert len(changes) <= 51
    # the tail waits for the timer, never lost
    assert scheduler.pending
    scheduler.fire_all()
    assert widget._w["answer"].value.count("<strong>markdown</strong>") == 5000
    widget(OperationFinished(operation_id=DEMO_OP, seq=9000, status="completed"))
    assert widget.render_count - renders_before <= 53
    assert "line 4999" in display.handles[0].bundles[-1]["text/html"]


def test_timer_flushes_a_paused_stream_and_ticks_the_running_task():
    widget, clock, scheduler, _ = make(now=lambda: T0 + timedelta(seconds=5))
    events = planned_operation(2, finish=False)
    start = next(i for i, e in enumerate(events) if isinstance(e, TaskStarted))
    for event in events[: start + 1]:
        widget(event)  # all within one 100 ms window: only the first renders at once
    assert statuses(widget) == []
    delays = [delay for delay, _ in scheduler.pending]
    assert delays and min(delays) <= 0.1
    clock.t += 0.1
    scheduler.fire_all()
    assert statuses(widget) == ["in_progress", "pending"]
    # a running task keeps a 1 s tick armed so that its elapsed time moves
    assert [delay for delay, _ in scheduler.pending] == [1.0]


def test_finish_swaps_the_widget_for_the_static_rendering_and_closes_it():
    widget, clock, scheduler, display = make()
    for event in planned_operation(3):
        clock.t += 0.01
        widget(event)
    handle = display.handles[0]
    final = handle.bundles[-1]
    assert set(final) == {"text/html", "text/markdown", "text/plain"}
    assert final == widget.static_bundle
    assert final["text/html"].count('data-mira-task-status="completed"') == 3
    assert widget.closed and widget.root.comm is None
    widget(TextDelta(operation_id=DEMO_OP, seq=10_000, text="late"))  # ignored after close
    assert "late" not in widget.state.text
    scheduler.fire_all()  # timers armed before the end do nothing


def test_widget_state_matches_state_rebuilt_from_stored_events():
    events = planned_operation(6, deltas=500, fail_task=2)
    widget, clock, _, _ = make()
    for event in events:
        clock.t += 0.003
        widget(event)
    assert widget.state == OperationState.from_events([e.model_dump_json() for e in events])


def test_footer_shows_tokens_cost_by_role_and_savings_live():
    widget, clock, _, _ = make()
    for event in planned_operation(2, finish=False):
        clock.t += 1
        widget(event)
    footer = widget._w["footer"].value
    assert "orchestrator $0.0053 (1 call)" in footer
    assert "executor $0.0023 (2 calls)" in footer
    assert "<b>$0.0076</b>" in footer
    assert "routing saved $0.0133" in footer
    assert "tokens in 7,200 (cached 2,200) · out 1,400 (reasoning 250)" in footer


def test_stop_button_calls_back_once_with_the_operation_id():
    stopped = []
    widget, clock, _, _ = make(on_stop=stopped.append)
    widget(planned_operation(2)[0])
    stop = widget._w["stop"]
    assert stop.layout.display == "" and not stop.disabled
    stop.click()
    stop.click()
    assert stopped == [DEMO_OP]
    assert stop.disabled and stop.description == "Stopping…"
    assert widget._w["run"].layout.display == "none"  # not a plan-only operation


def test_stop_button_hidden_without_callback_and_after_the_end():
    widget, clock, _, _ = make()
    widget(planned_operation(2)[0])
    assert widget._w["buttons"].layout.display == "none"
    stopper, clock2, _, _ = make(on_stop=lambda op: None)
    for event in planned_operation(1):
        clock2.t += 1
        stopper(event)
    assert stopper._w["stop"].layout.display == "none"


def test_callback_errors_are_shown_not_raised():
    def broken(op_id):
        raise RuntimeError("engine gone")

    widget, _, _, _ = make(on_stop=broken)
    widget(planned_operation(1)[0])
    widget._w["stop"].click()
    assert "Stop failed: engine gone" in widget._w["notices"].value


def plan_only_events():
    *events, planned = plan_only_operation(3)
    return events, planned


def test_run_button_for_plan_only_operations():
    runs = []
    widget, clock, _, display = make(on_run=runs.append)
    events, planned = plan_only_events()
    for event in events:
        clock.t += 1
        widget(event)
    run = widget._w["run"]
    assert run.layout.display == "" and run.disabled  # shown, but the plan is not ready yet
    widget(planned)
    assert not run.disabled
    # the widget stays live for its Run button, with the static rendering as a fallback
    final = display.handles[0].bundles[-1]
    assert WIDGET_MIME in final and "text/html" in final
    assert not widget.closed
    run.click()
    run.click()
    assert runs == [DEMO_OP]
    assert run.disabled


def test_plan_only_without_run_callback_goes_static():
    widget, clock, _, display = make()
    events, planned = plan_only_events()
    for event in [*events, planned]:
        clock.t += 1
        widget(event)
    assert WIDGET_MIME not in display.handles[0].bundles[-1]
    assert widget.closed
    assert 'data-mira-status="planned"' in widget.static_bundle["text/html"]


def test_model_text_is_escaped_in_the_live_answer():
    widget, clock, _, _ = make()
    widget(planned_operation(1)[0])
    clock.t += 1
    widget(TextDelta(operation_id=DEMO_OP, seq=50, text="<script>alert(1)</script> **ok**"))
    value = widget._w["answer"].value
    assert "<script" not in value and "&lt;script&gt;" in value and "<strong>ok</strong>" in value


def test_without_autodisplay_nothing_is_displayed_until_show():
    widget, clock, _, display = make(autodisplay=False)
    for event in planned_operation(2, finish=False):
        clock.t += 1
        widget(event)
    assert display.handles == [] and widget.root is None
    widget.show()
    assert statuses(widget) == ["completed", "completed"]


def test_started_event_alone_renders_a_running_badge():
    widget, _, _, _ = make()
    widget(planned_operation(1)[0])
    assert 'data-mira-status="running"' in widget._w["header"].value


def test_a_rendering_failure_is_logged_once_and_never_raised(caplog):
    def broken_display(*args, **kwargs):
        raise RuntimeError("no frontend")

    widget = OperationWidget(display=broken_display, schedule=None)
    for event in planned_operation(2):
        widget(event)
    assert widget.state.status == "completed"  # the state still folded every event
    failures = [r for r in caplog.records if "failed to render" in r.getMessage()]
    assert len(failures) == 1


def resumed_events(after):
    """OperationResumed, then the run of the plan: tasks, tools, answer, completed."""
    from mira_jupyter.core.events import OperationResumed

    run = [e for e in planned_operation(3) if e.type not in ("OperationStarted", "PlanGenerated", "TaskCreated")]
    resumed = OperationResumed(operation_id=DEMO_OP, seq=after.seq + 1, ts=after.ts)
    return [resumed, *[e.model_copy(update={"seq": after.seq + 2 + i}) for i, e in enumerate(run)]]


def test_a_widget_whose_first_event_is_operation_resumed_is_shown():
    widget, _, _, display = make()
    *_, planned = plan_only_events()
    widget(resumed_events(planned)[0])
    assert widget.root is not None and len(display.handles) == 1
    assert widget.state.status == "running"


class KernelOutput:
    """Like an ipywidgets Output in a kernel: an exception raised inside it is printed
    there and swallowed (its __exit__ returns True)."""

    def __init__(self):
        self.swallowed = []

    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        if value is not None:
            self.swallowed.append(value)
        return True


def test_a_run_button_failure_is_said_in_the_card_even_where_the_output_swallows_it():
    def refused(op_id):
        raise ValueError(f"{op_id} is no longer waiting to run")

    widget, clock, _, _ = make(on_run=refused)
    events, planned = plan_only_events()
    for event in [*events, planned]:
        clock.t += 1
        widget(event)
    widget._w["run_output"] = output = KernelOutput()
    widget._w["run"].click()
    assert "Run failed: " in widget._w["notices"].value and "no longer waiting" in widget._w["notices"].value
    assert widget._w["notices"].layout.display == "" and output.swallowed == []
    assert widget._w["run"].description == "Run failed"


def test_after_run_plan_the_same_widget_shows_the_run_with_stop_then_the_final_state():
    stops = []
    widget, clock, _, display = make(on_run=lambda op: None, on_stop=stops.append)
    events, planned = plan_only_events()
    for event in [*events, planned]:
        clock.t += 1
        widget(event)
    widget._w["run"].click()
    resumed, *rest = resumed_events(planned)
    clock.t += 1
    widget(resumed)
    assert widget.state.status == "running" and not widget.state.finished
    assert widget._w["stop"].layout.display == ""  # Stop is back for the running plan
    widget._w["stop"].click()
    assert stops == [DEMO_OP]
    for event in rest[:-1]:
        clock.t += 1
        widget(event)
    assert "completed" in statuses(widget)
    clock.t += 1
    widget(rest[-1])
    assert widget.closed
    final = display.handles[0].bundles[-1]
    assert WIDGET_MIME not in final and 'data-mira-status="completed"' in final["text/html"]


def test_empty_parts_take_no_room_and_wrapping_text_has_its_own_line_height():
    # ipywidgets gives every HTML widget a 28px line: empty parts left gaps, wrapped lines doubled
    widget, clock, _, _ = make()
    for event in planned_operation(2, finish=False)[:1]:
        widget(event)
    assert widget._w["answer"].layout.display == "none" and widget._w["activity"].layout.display == "none"
    assert widget._w["header"].layout.display == ""
    for event in planned_operation(2, finish=False)[1:]:
        clock.t += 1
        widget(event)
    assert widget._w["footer"].layout.display == ""
    assert "line-height:1.45" in widget._w["footer"].value and "line-height:1.45" in widget._w["header"].value


def test_each_code_block_gets_an_insert_as_cell_button_that_runs_nothing():
    inserted: list[str] = []
    widget, _, _, display = make(on_insert=inserted.append)
    answer = "Try:\n```python\nx = 1\n```\nthen\n```\nprint(x)\n```\n```text\n1\n```"
    events = [e for e in planned_operation() if e.type not in ("TextDelta", "OperationFinished")]
    for event in events:
        widget(event)
    widget(TextDelta(operation_id=DEMO_OP, text=answer))
    widget(OperationFinished(operation_id=DEMO_OP, status="completed", result_text=answer))
    rows = widget._w["inserts"].children
    assert len(rows) == 2 and widget._w["inserts"].layout.display == ""
    assert not widget.closed  # the buttons stay live after the operation ended
    assert WIDGET_MIME in display.handles[0].bundles[-1]  # and the static rendering is there too
    assert "text/html" in display.handles[0].bundles[-1]
    first, second = (row.children[0] for row in rows)
    second.click()
    first.click()
    assert inserted == ["print(x)", "x = 1"] and first.description == "Inserted below"


def test_no_code_no_insert_buttons_and_the_widget_closes():
    widget, _, _, _ = make(on_insert=lambda code: None)
    for event in planned_operation():
        if event.type not in ("TextDelta", "OperationFinished"):
            widget(event)
    widget(OperationFinished(operation_id=DEMO_OP, status="completed", result_text="All good, no code."))
    assert not widget._w["inserts"].children and widget.closed


def test_without_ipylab_no_insert_buttons_and_one_line_not_a_traceback(capsys, caplog):
    def insert(code):
        raise AssertionError("never clicked: no button is offered")

    def prepare():
        raise ModuleNotFoundError("No module named 'ipylab'")

    insert.prepare = prepare
    widget, _, _, _ = make(on_insert=insert)
    answer = "Try:\n```python\nx = 1\n```\n"
    for event in planned_operation():
        if event.type not in ("TextDelta", "OperationFinished"):
            widget(event)
    widget(OperationFinished(operation_id=DEMO_OP, status="completed", result_text=answer))
    widget.close_and_render_static()  # rendered a second time: the line is still said once
    assert not widget._w["inserts"].children and widget._w["inserts"].layout.display == "none"
    notices = widget._w["notices"].value
    assert notices.count("Insert as cell is not available") == 1 and "pip install ipylab" in notices
    assert "Traceback" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.levelno >= 30]
