"""A small, safe Markdown-to-HTML renderer for model text.

Model output is untrusted: every character of it is HTML-escaped before any markup is added,
links are kept only for http(s) and mailto URLs, and the result uses inline styles only, so it
can go into an ``ipywidgets.HTML`` value (set as innerHTML, unsanitised) and into saved
notebook outputs alike. It covers what chat models write: headings, paragraphs, emphasis,
inline code, fenced code (also unterminated, while it streams), lists, quotes, rules, tables.
"""

from __future__ import annotations

import re
from html import escape

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+.#-]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^ {0,3}>\s?")
_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"
)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)

CODE_STYLE = (
    "font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:0.9em;"
    "background:rgba(127,127,127,0.15);border-radius:3px;padding:0.1em 0.3em;"
    "overflow-wrap:anywhere"  # a long path breaks rather than sticks out of a narrow card
)
PRE_STYLE = (
    "font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:0.9em;line-height:1.4;"
    "background:rgba(127,127,127,0.12);border-radius:4px;padding:8px 10px;margin:6px 0;"
    "overflow-x:auto;white-space:pre"
)
_CELL_STYLE = "border:1px solid rgba(127,127,127,0.35);padding:3px 8px;text-align:left"
_P_OPEN = '<p style="margin:4px 0">'
# Every size and margin is inline: JupyterLab styles HTML outputs (.jp-RenderedHTMLCommon:
# heading sizes, code line heights) but not widgets, and the live widget must lay out like
# the card that replaces it
_PRE_CODE = (
    "font:inherit;line-height:inherit;background:none;padding:0;white-space:inherit;"
    "overflow-wrap:normal;word-break:normal"
)
_HEADING_SIZES = {1: "1.45em", 2: "1.3em", 3: "1.15em"}


def _heading_style(level: int) -> str:
    size = _HEADING_SIZES.get(level, "1em")
    return f"margin:8px 0 4px;font-size:{size};line-height:1.3;font-weight:600"
_QUOTE_STYLE = "margin:6px 0;padding:0 10px;border-left:3px solid rgba(127,127,127,0.45)"


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to escaped HTML with inline styles."""
    return "\n".join(_blocks(text.replace("\r\n", "\n").split("\n")))


def _inline(text: str) -> str:
    # code spans are cut out first: nothing inside them is markup
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_emphasis(text[pos : match.start()]))
        out.append(f'<code style="{CODE_STYLE}">{escape(match.group(2).strip())}</code>')
        pos = match.end()
    out.append(_emphasis(text[pos:]))
    return "".join(out)


def _emphasis(text: str) -> str:
    parts: list[str] = []
    pos = 0
    for match in _LINK.finditer(text):
        parts.append(_style(escape(text[pos : match.start()])))
        label, url = _style(escape(match.group(1))), match.group(2)
        if _SAFE_URL.match(url):
            parts.append(f'<a href="{escape(url)}" target="_blank" rel="noopener">{label}</a>')
        else:
            parts.append(label)
        pos = match.end()
    parts.append(_style(escape(text[pos:])))
    return "".join(parts)


def _style(escaped: str) -> str:
    escaped = _BOLD.sub(r"<strong>\2</strong>", escaped)
    escaped = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", escaped)
    return _STRIKE.sub(r"<del>\1</del>", escaped)


def _starts_block(line: str) -> bool:
    return bool(
        _FENCE.match(line)
        or _HEADING.match(line)
        or _RULE.match(line)
        or _QUOTE.match(line)
        or _ITEM.match(line)
    )


def _blocks(lines: list[str]) -> list[str]:
    html: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif fence := _FENCE.match(line):
            i = _code_block(lines, i, fence, html)
        elif heading := _HEADING.match(line):
            level = len(heading.group(1))
            html.append(
                f'<h{level} style="{_heading_style(level)}">{_inline(heading.group(2))}</h{level}>'
            )
            i += 1
        elif _RULE.match(line):
            html.append('<hr style="border:0;border-top:1px solid rgba(127,127,127,0.35)">')
            i += 1
        elif _QUOTE.match(line):
            quoted = []
            while i < len(lines) and lines[i].strip() and _QUOTE.match(lines[i]):
                quoted.append(_QUOTE.sub("", lines[i], count=1))
                i += 1
            html.append(
                f'<blockquote style="{_QUOTE_STYLE}">{"".join(_blocks(quoted))}</blockquote>'
            )
        elif _ITEM.match(line):
            i = _list_block(lines, i, html)
        elif "|" in line and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            i = _table(lines, i, html)
        else:
            para = [line.strip()]
            i += 1
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                para.append(lines[i].strip())
                i += 1
            html.append(f"{_P_OPEN}{_inline(chr(10).join(para))}</p>")
    return html


def _code_block(lines: list[str], i: int, fence: re.Match[str], html: list[str]) -> int:
    marker, lang = fence.group(1), fence.group(2)
    body: list[str] = []
    i += 1
    # an unterminated fence runs to the end: that is how a streaming answer looks mid-block
    while i < len(lines) and not lines[i].strip().startswith(marker):
        body.append(lines[i])
        i += 1
    label = f' data-lang="{escape(lang)}"' if lang else ""
    html.append(
        f'<pre style="{PRE_STYLE}"{label}><code style="{_PRE_CODE}">{escape(chr(10).join(body))}</code></pre>'
    )
    return i + 1


def _list_block(lines: list[str], i: int, html: list[str]) -> int:
    first = _ITEM.match(lines[i])
    assert first is not None
    ordered = first.group(2)[0].isdigit()
    items: list[list[str]] = []
    base = len(first.group(1))
    while i < len(lines):
        line = lines[i]
        item = _ITEM.match(line)
        indented = line[:1] in (" ", "\t") and (item is None or len(item.group(1)) > base)
        if item and not indented:
            if item.group(2)[0].isdigit() != ordered:
                break
            items.append([item.group(3)])
        elif line.strip() and indented:
            items[-1].append(_dedent(line))  # continuation or a nested list
        elif line.strip() and not _starts_block(line) and lines[i - 1].strip():
            items[-1].append(line.strip())  # a lazy continuation line
        elif not line.strip() and i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
            items[-1].append("")
        else:
            break
        i += 1
    tag = "ol" if ordered else "ul"
    start = ""
    if ordered:
        number = int(first.group(2)[:-1])
        start = f' start="{number}"' if number != 1 else ""
    rendered = []
    for body in items:
        inner = _blocks(body)
        # a tight item (no blank line) shows its text without paragraph margins
        if inner and "" not in body and inner[0].startswith(_P_OPEN):
            inner[0] = inner[0][len(_P_OPEN) : -len("</p>")]
        rendered.append(f'<li style="margin:0">{"".join(inner)}</li>')
    html.append(
        f'<{tag}{start} style="margin:4px 0;padding-left:1.6em">{"".join(rendered)}</{tag}>'
    )
    return i


def _dedent(line: str) -> str:
    expanded = line.replace("\t", "    ")
    return expanded[min(len(expanded) - len(expanded.lstrip(" ")), 4) :]


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)]


def _table(lines: list[str], i: int, html: list[str]) -> int:
    header = _cells(lines[i])
    i += 2
    rows = []
    while i < len(lines) and lines[i].strip() and "|" in lines[i]:
        rows.append(_cells(lines[i]))
        i += 1
    head = "".join(f'<th style="{_CELL_STYLE}">{_inline(c)}</th>' for c in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{_CELL_STYLE}">{_inline(c)}</td>' for c in row[: len(header)])
        + "</tr>"
        for row in rows
    )
    html.append(
        f'<table style="border-collapse:collapse;margin:6px 0"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
    return i
