"""Markdown and HTML that no notebook frontend typesets as maths: costs are dollars.

JupyterLab typesets ``$…$`` in Markdown *and* HTML outputs (MathJax 3 with
``processEscapes``, run over the rendered DOM), GitHub typesets ``$…$`` in Markdown. What
holds in each, measured in a real JupyterLab (tests/browser/test_dollars_browser.py):

- Markdown: ``\\$`` does **not** help in JupyterLab (marked turns it back into ``$`` before
  MathJax sees the page). ``&#36;`` keeps the Markdown parsers (JupyterLab's math
  extraction, GitHub's) from seeing a delimiter, and the ``mathjax_ignore`` class keeps
  MathJax off the ``$`` the entity becomes in the page. Inside code spans and fences a
  ``$`` is left as it is: no renderer typesets code, and there an entity would show as
  written.
- HTML: the same classes on a wrapping element (``tex2jax_ignore`` for MathJax 2).
"""

from __future__ import annotations

import re

# MathJax 2 (tex2jax_ignore) and MathJax 3 (mathjax_ignore) skip everything inside
NO_MATHS_CLASSES = "tex2jax_ignore mathjax_ignore"

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:.*?[^`])?\1(?!`)")


def _escape_text(text: str) -> str:
    # a backslash before the dollar would escape the entity's "&" and show "&#36;"
    return text.replace("\\$", "&#92;&#36;").replace("$", "&#36;")


def _escape_line(line: str) -> str:
    out, pos = [], 0
    for span in _CODE_SPAN.finditer(line):
        out.append(_escape_text(line[pos : span.start()]))
        out.append(span.group(0))
        pos = span.end()
    out.append(_escape_text(line[pos:]))
    return "".join(out)


def markdown_dollars(markdown: str) -> str:
    """`markdown` with every ``$`` outside code spans and fenced blocks written ``&#36;``."""
    lines, fence = [], None
    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            lines.append(line)
        elif opened:
            fence = opened.group(1)
            lines.append(line)
        else:
            lines.append(_escape_line(line))
    return "\n".join(lines)


def maths_free_markdown(markdown: str) -> str:
    """A whole Markdown output no renderer typesets: dollars escaped, wrapped in the classes.

    The blank lines around the content make the ``<div>`` lines HTML blocks of their own,
    so the Markdown between them is still parsed as Markdown (CommonMark rule 6).
    """
    return f'<div class="{NO_MATHS_CLASSES}">\n\n{markdown_dollars(markdown)}\n\n</div>'


def maths_free_html(html: str) -> str:
    """An HTML fragment wrapped in an element MathJax (2 and 3) does not typeset."""
    return f'<div class="{NO_MATHS_CLASSES}">{html}</div>'
