"""The safe Markdown renderer: model text can never inject HTML."""

from __future__ import annotations

import re

import pytest

from mira_jupyter.ui.markdown import render_markdown


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "hello <img src=x onerror=alert(1)> world",
        "# <b onmouseover=x>title</b>",
        "- item <iframe src=//evil>",
        "| a | b |\n|---|---|\n| <svg onload=x> | 2 |",
        "> <style>body{display:none}</style>",
        "**<a href='javascript:x'>bold</a>**",
    ],
)
def test_raw_html_is_escaped_everywhere(text):
    html = render_markdown(text)
    assert not re.search(r"<(script|img|iframe|svg|style|b |a href='javascript)", html)
    assert "&lt;" in html


def test_only_http_and_mailto_links_survive():
    html = render_markdown(
        "[ok](https://example.com/a?b=1&c=2) [bad](javascript:alert) [m](mailto:a@b.c)"
    )
    assert '<a href="https://example.com/a?b=1&amp;c=2"' in html
    assert 'href="mailto:a@b.c"' in html
    assert "javascript" not in html
    assert "bad" in html


def test_inline_markup():
    html = render_markdown(
        "Some **bold**, *italic*, ~~gone~~ and `x < y` but snake_case_name stays"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<del>gone</del>" in html
    assert "<code" in html and "x &lt; y</code>" in html
    assert "snake_case_name" in html


def test_code_fence_keeps_text_verbatim_and_tolerates_an_open_fence():
    closed = render_markdown("```python\nif a < b and **c**:\n    pass\n```\nafter")
    assert 'data-lang="python"' in closed
    assert "if a &lt; b and **c**:\n    pass</code></pre>" in closed
    assert "<p" in closed and "after</p>" in closed
    streaming = render_markdown("text\n```\npartial line")
    assert streaming.endswith("partial line</code></pre>")


def test_headings_lists_nesting_quotes_rules_and_tables():
    html = render_markdown(
        "## Title\n\n- one\n- two\n  - nested\n\n3. third\n4. fourth\n\n> quoted\n\n---\n\n"
        "| h1 | h2 |\n|:--|--:|\n| a | b |\n"
    )
    assert re.search(r"<h2[^>]*>Title</h2>", html)
    assert re.search(r"<li[^>]*>two<ul[^>]*><li[^>]*>nested</li></ul></li>", html)
    assert re.search(r'<ol start="3"[^>]*><li[^>]*>third</li><li[^>]*>fourth</li></ol>', html)
    assert "<blockquote" in html and "quoted" in html
    assert "<hr" in html
    assert re.search(r"<th[^>]*>h1</th><th[^>]*>h2</th>", html)
    assert re.search(r"<td[^>]*>a</td><td[^>]*>b</td>", html)


def test_paragraphs_are_separated_by_blank_lines():
    html = render_markdown("first line\nsame paragraph\n\nsecond")
    assert html.count("<p ") == 2
