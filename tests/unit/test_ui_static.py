"""The static rendering kept in the saved notebook."""

from __future__ import annotations

from html.parser import HTMLParser

from mira_jupyter.core.events import OperationFinished
from mira_jupyter.ui.demo import DEMO_OP, planned_operation
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.static import neutralise_html, render_static

EVIL = "Done. <script>alert('pwned')</script> <img src=x onerror=alert(1)>\n\n```html\n<b>kept in code</b>\n```"


SAFE_TAGS = {
    "div",
    "span",
    "b",
    "code",
    "pre",
    "details",
    "summary",
    "ul",
    "ol",
    "li",
    "p",
    "h2",
    "table",
    "tr",
    "td",
    "em",
    "strong",
}


def parse_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag in `html` with its attributes."""
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, attrs))

    Collector().feed(html)
    return tags


def evil_state() -> OperationState:
    events = planned_operation(3, answer=EVIL)
    events[0].request = "Explain <script>document.cookie</script>"
    return OperationState.from_events(events)


def test_bundle_has_html_markdown_and_plain():
    bundle = render_static(OperationState.from_events(planned_operation(4)))
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    assert bundle["text/html"].count('data-mira-task-status="completed"') == 4
    assert DEMO_OP in bundle["text/plain"]
    assert "[4/4] ✓ Step 4 of the fix (1.1 s)" in bundle["text/plain"]
    assert "- [2/4] ✓ Step 2 of the fix (1.1 s)" in bundle["text/markdown"]


def test_html_escapes_model_and_request_text_and_has_no_active_content():
    html = render_static(evil_state())["text/html"]
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;document.cookie&lt;/script&gt;" in html
    assert "&lt;b&gt;kept in code&lt;/b&gt;" in html
    tags = parse_tags(html)
    assert {name for name, _ in tags} <= SAFE_TAGS
    assert not [a for _, attrs in tags for a, _ in attrs if a.startswith("on") or a == "src"]


def test_markdown_neutralises_html_but_not_code():
    md = render_static(evil_state())["text/markdown"]
    assert "<script" not in md and "<img" not in md
    assert "&lt;script>alert('pwned')&lt;/script>" in md
    assert "<b>kept in code</b>" in md  # inside a fenced block it is shown, not rendered
    assert neutralise_html("a `<b>` <i>x</i>") == "a `<b>` &lt;i>x&lt;/i>"


def test_tool_log_shows_denial_and_durations():
    html = render_static(OperationState.from_events(planned_operation(3)))["text/html"]
    assert "Tool calls (4: 1 denied, 3 ok)" in html
    assert 'data-mira-tool-status="denied"' in html
    assert "denied: path escapes the project root" in html
    assert "12 ms" in html


def test_footer_splits_cost_by_role_and_shows_savings():
    html = render_static(OperationState.from_events(planned_operation(2)))["text/html"]
    footer = html[html.index('class="mira-footer"') :]
    assert "$0.0076" in footer  # 0.005275 + 2 * 0.00116
    assert "orchestrator $0.0053 (1 call)" in footer
    assert "executor $0.0023 (2 calls)" in footer
    assert "routing saved $0.0133" in footer  # 2 * (0.0078 - 0.00116)
    assert "cached 2,200" in footer  # 200 + 2 * 1000 and "reasoning 250" in footer


def test_failed_and_cancelled_operations_show_their_error():
    events = planned_operation(3, finish=False)
    events.append(
        OperationFinished(
            operation_id=DEMO_OP, seq=500, status="cancelled", error="cancelled by user"
        )
    )
    bundle = render_static(OperationState.from_events(events))
    assert 'data-mira-status="cancelled"' in bundle["text/html"]
    assert "cancelled by user" in bundle["text/html"]
    assert "— cancelled" in bundle["text/plain"]


def test_dollar_amounts_are_not_typeset_as_maths():
    from mira_jupyter.ui import OperationState, render_static
    from mira_jupyter.ui.demo import planned_operation

    bundle = render_static(OperationState.from_events(planned_operation(2)))
    assert "tex2jax_ignore mathjax_ignore" in bundle["text/html"]
    markdown = bundle["text/markdown"]
    # "\\$" is turned back into "$" by JupyterLab's Markdown parser, and then typeset
    assert markdown.startswith('<div class="tex2jax_ignore mathjax_ignore">')
    footer = markdown.splitlines()[-3]
    assert "&#36;" in footer and "$" not in footer


def test_each_task_shows_its_dependencies_and_tool_outcomes():
    from mira_jupyter.core.events import FileChanged, TaskCreated
    from mira_jupyter.ui.static import tasks_html

    events = planned_operation(3)
    state = OperationState.from_events(events)
    # task 2 of the demo had a write refused; depends_on comes from TaskCreated
    state.apply(
        TaskCreated(operation_id=DEMO_OP, task_id="task_x", sequence=4, description="Check <it>",
                    active_form="Checking it", depends_on=[1, 3])
    )  # fmt: skip
    html = tasks_html(state)
    rows = html.split("<li ")[1:]
    assert "write_file denied (path escapes the project root)" in rows[1]
    assert "data-mira-task-outcomes" not in rows[0]
    assert '<span data-mira-task-depends style="' in rows[3] and "(after 1, 3)" in rows[3]
    assert "Check &lt;it&gt;" in rows[3]
    # a file written while a task runs is listed under that task
    state.tasks["task_x"].status = "in_progress"
    state.apply(FileChanged(operation_id=DEMO_OP, path="src/<a>.py", existed_before=True, project_root="/p"))
    assert "wrote src/&lt;a&gt;.py" in tasks_html(state).split("<li ")[4]


def test_a_task_added_while_the_plan_ran_is_marked_added():
    from mira_jupyter.core.events import TaskCreated
    from mira_jupyter.ui.static import tasks_html

    state = OperationState.from_events(planned_operation(2))
    state.apply(
        TaskCreated(operation_id=DEMO_OP, task_id="task_new", sequence=3, description="Fix the fixture",
                    active_form="Fixing the fixture", planned=False)
    )  # fmt: skip
    rows = tasks_html(state).split("<li ")[1:]
    assert all("data-mira-task-added" not in row for row in rows[:2])
    assert '<span data-mira-task-added style="' in rows[2] and "(added)</span>" in rows[2]
