"""edit_notebook's write: only the edited cell's text changes, in the file's own style.

Writing the whole notebook again in nbformat's style (indent 1, sorted keys, LF, list
sources) turns a one-cell edit of a compact or CRLF notebook into a change of every line,
and the diff and undo record say so. Here the file's JSON is scanned for the byte span of
each cell (`json.JSONDecoder.raw_decode` from each value's start), and the edited cell is
written into its span in the style the file already uses: its indent unit, separators,
line endings, non-ASCII escaping, the key order and source form of its neighbours. The
result is checked: it must parse to the file's JSON with exactly that one cell changed.
Where that cannot be done (ids that nbformat had to make up must be written too), the
whole notebook is written in the file's style instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class Style:
    """How a notebook file writes its JSON."""

    indent: str | None  # one level's indent; None: everything on one line
    newline: str
    item_separator: str
    key_separator: str
    ensure_ascii: bool
    before: str  # text before the opening brace
    after: str  # text after the closing brace (the trailing newline, or none)


@dataclass
class Cells:
    """Where the cells array and each cell are in the file's text."""

    open_at: int  # index of "["
    close_at: int  # index of "]"
    spans: list[tuple[int, int]]


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()


def find_cells(text: str) -> Cells | None:
    """The spans of the top-level ``cells`` array and its items; None if not found."""
    at = _skip(text, 0)
    if text[at : at + 1] != "{":
        return None
    found = None
    at = _skip(text, at + 1)
    while at < len(text) and text[at] != "}":
        key, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] != ":":
            return None
        at = _skip(text, at + 1)
        if key == "cells" and text[at : at + 1] == "[":
            open_at, spans = at, []
            at = _skip(text, at + 1)
            while text[at : at + 1] != "]":
                _, end = _DECODER.raw_decode(text, at)
                spans.append((at, end))
                at = _skip(text, end)
                if text[at : at + 1] == ",":
                    at = _skip(text, at + 1)
            found = Cells(open_at, at, spans)  # the last "cells" wins, as in json.loads
            at += 1
        else:
            _, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
    return found


def detect_style(text: str) -> Style:
    """The file's JSON style, read from its text."""
    start = _skip(text, 0)
    end = text.rstrip(" \t\r\n")
    after = text[len(end) :]
    newline = "\r\n" if "\r\n" in text else "\n"
    first_line = re.match(r"\{(\r?\n)([ \t]*)", text[start:])
    indent = first_line.group(2) if first_line and first_line.group(2) else None
    if first_line and indent is None:
        indent = ""  # newlines but no indent
    compact = indent is None
    key_separator = ": " if re.search(r'"\s*:\s', text[:4096]) else ":"
    item_separator = ("," if re.search(r",\S", text[:4096]) else ", ") if compact else ","
    # non-ASCII written as \u escapes (json.dumps' default) rather than as UTF-8
    ensure_ascii = text.isascii() and re.search(r"\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])", text) is not None
    return Style(indent, newline, item_separator, key_separator, ensure_ascii, text[:start], after)


def dumps(value: Any, style: Style, level: str = "") -> str:
    """`value` as JSON in `style`, its lines after the first indented by `level`."""
    if style.indent is None:
        text = json.dumps(value, ensure_ascii=style.ensure_ascii, separators=(style.item_separator, style.key_separator))
    else:
        text = json.dumps(value, ensure_ascii=style.ensure_ascii, indent=style.indent, separators=(",", style.key_separator))
        text = text.replace("\n", "\n" + level)  # JSON strings never hold a raw newline
    return text.replace("\n", style.newline)


def _split(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells with multi-line texts as lists of lines, as nbformat writes them (its own rule)."""
    import nbformat
    from nbformat.v4.rwbase import split_lines

    return _plain(split_lines(nbformat.from_dict({"cells": _plain(cells)})).cells)


def _joined(cells: list[Any]) -> list[dict[str, Any]]:
    """Cells with lists of lines joined, as nbformat reads them."""
    import nbformat
    from nbformat.v4.rwbase import rejoin_lines

    return _plain(rejoin_lines(nbformat.from_dict({"cells": _plain(cells)})).cells)


def shaped_cell(cell: Any, template: dict[str, Any] | None) -> dict[str, Any]:
    """The cell as plain JSON, keys in the order `template` (a neighbour as the file holds
    it) uses and its texts in the same form (one string, or lists of lines)."""
    (plain,) = _joined([cell])
    if template is None or isinstance(template.get("source"), list):
        (plain,) = _split([plain])
    if template is None:
        return dict(sorted(plain.items()))  # as nbformat writes a new file
    order = [k for k in template if k in plain] + sorted(k for k in plain if k not in template)
    return {k: plain[k] for k in order}


def _level(text: str, start: int) -> str:
    """The indent of the line a value starts on."""
    line_start = text.rfind("\n", 0, start) + 1
    lead = text[line_start:start]
    return lead if lead.strip() == "" else ""


def splice(text: str, cells: Cells, action: str, index: int, new_cell: dict[str, Any] | None, style: Style) -> str:
    """`text` with cell `index` replaced or deleted, or `new_cell` inserted at `index`."""
    spans = cells.spans
    if style.indent is None:
        separator = style.item_separator
        level = ""
    else:
        level = _level(text, spans[0][0]) if spans else style.indent * 2
        separator = text[spans[0][1] : spans[1][0]] if len(spans) > 1 else "," + style.newline + level
    if action == "replace":
        start, end = spans[index]
        return text[:start] + dumps(new_cell, style, _level(text, start)) + text[end:]
    if action == "delete":
        if len(spans) == 1:
            return text[: cells.open_at + 1] + text[cells.close_at :]
        if index + 1 < len(spans):
            return text[: spans[index][0]] + text[spans[index + 1][0] :]
        return text[: spans[index - 1][1]] + text[spans[index][1] :]
    body = dumps(new_cell, style, level)
    if not spans:  # the first cell of an empty list
        if style.indent is None:
            return text[: cells.open_at + 1] + body + text[cells.close_at :]
        inner = style.newline + level + body + style.newline + style.indent
        return text[: cells.open_at + 1] + inner + text[cells.close_at :]
    if index == 0:
        return text[: spans[0][0]] + body + separator + text[spans[0][0] :]
    return text[: spans[index - 1][1]] + separator + body + text[spans[index - 1][1] :]


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _template(raw_cells: list[Any], index: int, cell_type: str, action: str) -> dict[str, Any] | None:
    """The cell whose key order and source form an edited cell follows."""
    if action == "replace":
        return raw_cells[index]
    near = sorted(range(len(raw_cells)), key=lambda i: abs(i - index))
    same = [i for i in near if raw_cells[i].get("cell_type") == cell_type]
    chosen = (same or near or [None])[0]
    return None if chosen is None else raw_cells[chosen]


def edited_text(original: str, nb: Any, action: str, index: int) -> str | None:
    """`original` with only the edit of cell `index` (see the module docstring) made, as
    `nb` holds it after the edit; None when that cannot be done exactly."""
    try:
        raw = json.loads(original)
        cells = find_cells(original)
    except ValueError:
        return None
    raw_cells = raw.get("cells") if isinstance(raw, dict) else None
    if cells is None or not isinstance(raw_cells, list) or len(cells.spans) != len(raw_cells):
        return None
    edited = list(nb.cells)
    kept_now = [c for i, c in enumerate(edited) if action == "delete" or i != index]
    kept_before = [c for i, c in enumerate(raw_cells) if action == "insert_after" or i != index]
    top_now = {k: v for k, v in _plain(nb).items() if k != "cells"}
    top_before = {k: v for k, v in raw.items() if k != "cells"}
    # every other cell and the notebook's metadata as the file holds them (nbformat may have
    # given cells ids of its own, which must then be written: not a one-cell edit)
    if top_now != top_before or len(kept_now) != len(kept_before) or _joined(kept_now) != _joined(kept_before):
        return None
    style = detect_style(original)
    expected = list(raw_cells)
    new_cell = None
    if action == "delete":
        del expected[index]
    else:
        cell = edited[index]
        new_cell = shaped_cell(cell, _template(raw_cells, index, cell.get("cell_type", "code"), action))
        if action == "replace":
            expected[index] = new_cell
        else:
            expected.insert(index, new_cell)
    text = splice(original, cells, action, index, new_cell, style)
    try:
        if json.loads(text) != {**raw, "cells": expected}:
            return None
    except ValueError:
        return None
    return text


def whole_in_style(original: str, nb: Any) -> str:
    """The whole notebook in the style of `original` (indent, separators, line endings,
    key order as parsed, texts as lists of lines if the file has them, trailing newline)."""
    style = detect_style(original)
    plain = _plain(nb)
    try:
        raw_cells = json.loads(original).get("cells") or []
    except (ValueError, AttributeError):
        raw_cells = []
    # nbformat reads lists of lines as strings: write them back as the file had them
    if any(isinstance(c, dict) and isinstance(c.get("source"), list) for c in raw_cells):
        plain["cells"] = _split(plain.get("cells", []))
    return style.before + dumps(plain, style) + style.after
