"""TextView: the same events as readable, sanitizer-friendly lines."""

from __future__ import annotations

import io
import re

from mira_jupyter.core.events import Notice, OperationFinished, TextDelta
from mira_jupyter.ui.demo import DEMO_OP, planned_operation
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.text import TextView, render_text


def run_view(events) -> tuple[TextView, list[str]]:
    out = io.StringIO()
    view = TextView(out)
    for event in events:
        view(event)
    return view, out.getvalue().splitlines()


def test_planned_operation_lines():
    view, lines = run_view(planned_operation(5, fail_task=4))
    assert lines[0] == (
        f"mira {DEMO_OP} · planned (auto) · complexity 0.31 (mentions a fix and a test, "
        "touches several files) · orchestrator openai:gpt-5 · executor deepseek:deepseek-chat"
    )
    assert (
        lines[1]
        == "> Find where the CSV loader drops rows with empty dates and fix it; add a test."
    )
    assert lines[2] == "Plan:"
    assert "  1. Step 1 of the fix" in lines
    tasks = lines.index("Tasks:")
    assert lines[tasks + 1 : tasks + 3] == ["  ○ 1. Step 1 of the fix", "  ○ 2. Step 2 of the fix"]
    assert "[2/5] ◐ Working on step 2" in lines
    assert "[2/5] ✓ Step 2 of the fix (1.1 s)" in lines
    assert "[4/5] ✗ Step 4 of the fix (1.1 s) — tests still fail: 1 error" in lines
    assert "    ✓ read_file path='src/module_1.py' (12 ms) — 41 lines" in lines
    assert (
        "    ⊘ write_file path='../etc/passwd' — denied: path escapes the project root (0 ms)"
        in lines
    )
    assert "    ✎ modified src/loader.py (+2 −2)" in lines
    assert "## Fixed the CSV loader" in lines
    assert lines[-4:] == [
        "— failed (6.5 s): task failed",
        "— tokens: in 16,200 (cached 5,200) · out 2,900 (reasoning 250)",
        "— cost: $0.0111 (orchestrator $0.0053, executor $0.0058)",
        "— routing saved $0.0332 vs orchestrator only",
    ]


def test_streamed_text_is_written_as_it_arrives_and_lines_never_merge():
    out = io.StringIO()
    view = TextView(out)
    view(planned_operation(1)[0])
    view(TextDelta(operation_id=DEMO_OP, seq=2, text="Hel"))
    assert out.getvalue().endswith("Hel")
    view(TextDelta(operation_id=DEMO_OP, seq=3, text="lo"))
    assert out.getvalue().endswith("Hello")
    view(Notice(operation_id=DEMO_OP, seq=4, level="warning", message="turn cap reached"))
    assert out.getvalue().endswith("Hello\n! turn cap reached\n")


def test_unstreamed_result_is_printed_at_the_end():
    started = planned_operation(1)[0]
    finished = OperationFinished(
        operation_id=DEMO_OP, seq=9, status="completed", result_text="The answer is 42."
    )
    _, lines = run_view([started, finished])
    assert lines[2] == "The answer is 42."
    assert lines[3].startswith("— completed")


def test_output_is_deterministic_and_sanitizable():
    _, first = run_view(planned_operation(4))
    _, second = run_view(planned_operation(4))
    assert first == second
    text = "\n".join(first)
    normalised = re.sub(r"\(\d+(\.\d+)? m?s\)", "(T)", re.sub(r"op_[0-9a-z]+", "OP", text))
    assert "ms)" not in normalised and " s)" not in normalised and "op_" not in normalised


def test_render_text_summary_matches_the_state():
    state = OperationState.from_events(planned_operation(3))
    text = render_text(state)
    assert "Tasks:\n  [1/3] ✓ Step 1 of the fix (1.1 s)" in text
    assert "Tool calls (4):" in text
    assert text.endswith("— routing saved $0.0199 vs orchestrator only")


def test_default_stream_is_resolved_when_writing(capsys):
    view = TextView()
    view(planned_operation(1)[0])
    assert capsys.readouterr().out.startswith(f"mira {DEMO_OP}")
