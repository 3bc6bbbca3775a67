"""Dollars are never maths: the Markdown and HTML every output of Mira produces."""

from __future__ import annotations

import re
from decimal import Decimal

from mira_jupyter.core.markup import markdown_dollars, maths_free_html, maths_free_markdown

# what JupyterLab's and GitHub's Markdown parsers take as a maths delimiter: a bare "$"
# (an escaped "\$" is no help: JupyterLab's marked unescapes it before MathJax runs)
BARE_DOLLAR = re.compile(r"\$")


def _prose(markdown: str) -> str:
    """`markdown` without its code spans and fenced blocks (where "$" is never maths)."""
    markdown = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return re.sub(r"`[^`]*`", "", markdown)


def test_dollars_in_prose_become_entities_and_code_is_left_alone():
    text = "cost $0.0135 · saved $0.0011, `echo $HOME` stays\n```sh\nexport A=$B\n```\nafter $1"
    out = markdown_dollars(text)
    assert "cost &#36;0.0135 · saved &#36;0.0011" in out
    assert "`echo $HOME`" in out
    assert "export A=$B" in out
    assert out.endswith("after &#36;1")
    assert not BARE_DOLLAR.search(_prose(out))


def test_a_backslash_before_a_dollar_does_not_escape_the_entity():
    # "\&#36;" would show as the text "&#36;": the backslash becomes an entity too
    assert markdown_dollars(r"a \$5 fee") == "a &#92;&#36;5 fee"


def test_an_unclosed_fence_keeps_the_rest_as_code_and_tildes_close_only_tildes():
    out = markdown_dollars("~~~\n$a$\n```\n$b$\n~~~\n$c$")
    assert out.split("\n") == ["~~~", "$a$", "```", "$b$", "~~~", "&#36;c&#36;"]


def test_whole_outputs_are_wrapped_in_the_classes_mathjax_skips():
    md = maths_free_markdown("- $1 task\n- $2 task")
    assert md.startswith('<div class="tex2jax_ignore mathjax_ignore">\n\n')
    assert md.endswith("\n\n</div>")
    assert "- &#36;1 task" in md  # still a Markdown list between the HTML blocks
    assert maths_free_html("<p>$1</p>") == '<div class="tex2jax_ignore mathjax_ignore"><p>$1</p></div>'


def test_the_operation_markdown_repr_has_no_bare_dollar_anywhere():
    from mira_jupyter.engine.result import Operation
    from mira_jupyter.engine.tasks import Task

    op = Operation(
        id="op_1",
        request="r",
        mode="planned",
        status="failed",
        error="budget $0.50 would be exceeded: spent $0.49",
        tasks=[Task(id="t1", sequence=1, description="price the $5 and $10 plans", active_form="pricing", status="completed")],
        routing_savings_usd=Decimal("0.0011"),
    )
    md = op._repr_markdown_()
    assert md.startswith('<div class="tex2jax_ignore mathjax_ignore">')
    assert not BARE_DOLLAR.search(_prose(md)), md
    assert "&#36;0.50" in md and "price the &#36;5 and &#36;10 plans" in md


def test_log_frames_keep_their_data_and_attrs_and_wrap_their_html():
    import pandas as pd

    from mira_jupyter.notebook.tables import LogFrame, log_frame

    frame = pd.DataFrame({"cost": ["$0.0100 (at most $0.0200)"], "calls": [2]})
    frame.attrs["totals"] = {"calls": 2}
    shown = log_frame(frame)
    assert shown.attrs == {"totals": {"calls": 2}}
    assert shown.equals(frame)
    assert isinstance(shown[["cost"]], LogFrame)  # a slice is still safe to show
    html = shown._repr_html_()
    assert html.startswith('<div class="tex2jax_ignore mathjax_ignore">')
    assert "$0.0100 (at most $0.0200)" in html


def test_chart_labels_and_title_with_dollars_are_text_not_mathtext():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from mira_jupyter.store.analytics import plot_costs

    frame = pd.DataFrame(
        {"operation_id": ["op_12345678"], "request": ["price $5 and $10"], "cost_usd": [0.5]}
    )
    frame.attrs["totals"] = {"cost_usd": Decimal("0.5")}
    ax = plot_costs(frame, "operation")
    for text in [*ax.get_xticklabels(), ax.title]:
        shown, is_maths = text._preprocess_math(text.get_text())
        assert not is_maths, text.get_text()
    assert "$5 and $10" in ax.get_xticklabels()[0]._preprocess_math(ax.get_xticklabels()[0].get_text())[0]
