"""Jupyter notebooks as the file tools see them: cells, not JSON.

An ``.ipynb`` file is JSON with base64 images, widget state and escaped sources; read raw it
costs tens of thousands of tokens and says little. Through `nbformat` (the format's own
library) the tools see what a person sees: each cell's index, id, type and source, outputs
as capped text, and images and widgets as one-line placeholders such as
``[image/png 640×480]``. Never raw JSON, never base64.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import data_uri
from .notebook_outputs import output_text, placeholder, size_label

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # a notebook is parsed whole; above this it is refused
OUTPUT_CHARS_PER_CELL = 1_500  # text of one cell's outputs shown by read_file
_MAGIC = re.compile(r"^\s*[%!]")  # IPython magics and shell escapes are not Python


def is_notebook(path: str) -> bool:
    """Whether the file tools treat `path` as a Jupyter notebook."""
    return path.lower().endswith(".ipynb")


class NotebookError(ValueError):
    """The file is not a notebook nbformat can read."""


def parse(data: bytes, *, convert: bool = True) -> Any:
    """The notebook in `data` (upgraded to v4 for reading unless `convert` is False).

    Cells that need an id and have none (or share one) get a stable id derived from the
    cell, not nbformat's random one: the id read_file shows must still name the cell when
    edit_notebook reads the file again.
    """
    import warnings

    import nbformat
    from nbformat import reader

    try:
        # a byte-order mark (some Windows editors write one) is no part of the JSON
        text = data.decode("utf-8").removeprefix("\ufeff")
        nb = reader.reads(text)
        in_file = (nb.get("nbformat"), nb.get("nbformat_minor", 0))
        had_ids = [c.get("id") for c in nb.get("cells", [])] if nb.get("nbformat") == 4 else []
        if convert:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an old format's warnings are not the reader's
                nb = nbformat.convert(nb, 4)
        # an attribute, not a key: the version the file holds is no part of the notebook's JSON
        # (a key would be written back), and after a conversion nb.nbformat is 4.5
        object.__setattr__(nb, "file_format", in_file)
        stable_ids(nb, had_ids)
        with contextlib.suppress(nbformat.ValidationError):
            # as nbformat.reads: an invalid notebook is still shown; validate fills defaults
            nbformat.validate(nb)
        return nb
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except Exception as exc:  # nbformat raises several kinds for bad JSON or schemas
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"not a readable notebook: {first[:200]}") from None


def stable_ids(nb: Any, had_ids: list[Any]) -> int:
    """Give each cell of a v4.5+ notebook that has no id of its own in the file (missing,
    duplicated, or made up by a conversion) an id that depends only on the cell's place,
    type and source; returns how many were given."""
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        return 0  # ids arrived in 4.5: older notebooks are addressed by index
    taken: set[str] = set()
    own = []
    for index, cell in enumerate(nb.cells):
        original = had_ids[index] if index < len(had_ids) else None
        keep = isinstance(original, str) and original == cell.get("id") and original not in taken
        own.append(keep)
        if keep:
            taken.add(original)
    given = 0
    for index, cell in enumerate(nb.cells):
        if own[index]:
            continue
        seed = f"{index}\0{cell.get('cell_type', '')}\0{source_of(cell)}".encode("utf-8", "surrogatepass")
        digest = hashlib.sha1(seed).hexdigest()
        new, clash = digest[:8], 0
        while new in taken:  # a clash with a real id, or another derived one
            clash += 1
            new = f"{digest[:8]}-{clash}"
        cell["id"] = new
        taken.add(new)
        given += 1
    return given


def source_of(cell: Any) -> str:
    """A cell's source as one string (nbformat may keep it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit:,} more characters of output]"


# -- the cell view ------------------------------------------------------------------------


@dataclass
class CellView:
    """One cell as the tools report it."""

    index: int
    cell_id: str | None
    cell_type: str
    source: str
    execution_count: int | None = None
    outputs: str = ""
    attachments: str = ""  # a markdown cell's pasted images, as placeholders

    def header(self) -> str:
        """``[cell 3 · id 7f2a · code · In[5]]``."""
        parts = [f"cell {self.index}"]
        if self.cell_id:
            parts.append(f"id {self.cell_id}")
        parts.append(self.cell_type)
        if self.execution_count is not None:
            parts.append(f"In[{self.execution_count}]")
        return "[" + " · ".join(parts) + "]"

    def render(self) -> str:
        """The cell as read_file shows it."""
        text = f"{self.header()}\n{self.source.rstrip(chr(10))}\n"
        if self.attachments:
            text += f"[attachments] {self.attachments}\n"
        if self.outputs:
            text += f"[outputs]\n{self.outputs.rstrip(chr(10))}\n"
        return text


def attachments_of(cell: Any) -> str:
    """A cell's attachments as ``p.png [image/png 30×30]`` placeholders, never their data."""
    found = cell.get("attachments")
    if not isinstance(found, dict):
        return ""
    parts = []
    for name, bundle in list(found.items())[:20]:
        kinds = bundle.items() if isinstance(bundle, dict) else [("?", "")]
        parts.append(f"{str(name)[:80]} " + " ".join(placeholder(str(mime), data) for mime, data in kinds))
    more = f"; … {len(found) - 20} more" if len(found) > 20 else ""
    return "; ".join(parts) + more


def cell_views(nb: Any, output_chars: int = OUTPUT_CHARS_PER_CELL) -> list[CellView]:
    """Every cell of the notebook, outputs capped per cell; inline base64 (data URIs) in
    sources and outputs is shown as a placeholder (`core.data_uri`), never sent."""
    views = []
    for index, cell in enumerate(nb.cells):
        outputs = ""
        if cell.get("cell_type") == "code":
            joined = "\n".join(output_text(o) for o in cell.get("outputs", []))
            outputs = _cap(data_uri.elide(joined), output_chars)
        views.append(
            CellView(
                index=index,
                cell_id=cell.get("id"),
                cell_type=cell.get("cell_type", "?"),
                source=data_uri.elide(source_of(cell)),
                execution_count=cell.get("execution_count"),
                outputs=outputs,
                attachments=attachments_of(cell),
            )
        )
    return views


def describe(nb: Any) -> str:
    """The first line of a notebook view: cells by type, kernel, format version."""
    kinds: dict[str, int] = {}
    for cell in nb.cells:
        kinds[cell.get("cell_type", "?")] = kinds.get(cell.get("cell_type", "?"), 0) + 1
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    kernel = (nb.metadata.get("kernelspec") or {}).get("name")
    kernel = f"kernel {kernel}" if kernel else "no kernelspec"
    return f"notebook: {len(nb.cells)} cells ({counts or 'none'}), {kernel}, {format_label(nb)}"


def format_label(nb: Any) -> str:
    """``nbformat 4.4``; a file converted for reading says so: ``nbformat 3.0 (read as 4.5)``."""
    shown = f"{nb.nbformat}.{nb.nbformat_minor}"
    major, minor = getattr(nb, "__dict__", {}).get("file_format", (nb.nbformat, nb.nbformat_minor))
    in_file = f"{major}.{minor}"
    return f"nbformat {in_file}" if in_file == shown else f"nbformat {in_file} (read as {shown})"


def render(nb: Any, output_chars: int = OUTPUT_CHARS_PER_CELL) -> str:
    """The whole notebook as read_file shows it."""
    return describe(nb) + "\n\n" + "\n".join(view.render() for view in cell_views(nb, output_chars))


# -- summaries and symbols ----------------------------------------------------------------


def python_of(source: str) -> str:
    """A code cell's source with magics and shell escapes blanked, line numbers kept."""
    return "\n".join("" if _MAGIC.match(line) else line for line in source.split("\n"))


def _imports_and_names(source: str) -> tuple[list[str], list[str]]:
    try:
        tree = ast.parse(python_of(source))
    except (SyntaxError, ValueError):
        return [], []
    imports: list[str] = []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imports += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.append(sub.id)
    return list(dict.fromkeys(imports)), list(dict.fromkeys(names))


def summary(nb: Any) -> dict[str, Any]:
    """Per cell: headings of markdown cells, imports and defined names of code cells."""
    outline = []
    all_imports: list[str] = []
    for view in cell_views(nb, 0):
        label = f"cell {view.index}" + (f" (id {view.cell_id})" if view.cell_id else "")
        if view.cell_type == "markdown":
            headings = [line.strip() for line in view.source.splitlines() if line.lstrip().startswith("#")]
            first = next((line.strip() for line in view.source.splitlines() if line.strip()), "")
            outline.append(f"{label} markdown: " + ("; ".join(headings[:4]) or first[:80]))
        elif view.cell_type == "code":
            imports, names = _imports_and_names(view.source)
            all_imports += imports
            facts = []
            if imports:
                facts.append("imports " + ", ".join(imports[:8]))
            if names:
                facts.append("defines " + ", ".join(names[:12]))
            lines = len(view.source.splitlines())
            outline.append(f"{label} code, {lines} line{'s' if lines != 1 else ''}" + (": " + "; ".join(facts) if facts else ""))
        else:
            outline.append(f"{label} {view.cell_type}")
    return {"description": describe(nb), "imports": list(dict.fromkeys(all_imports)), "cells": outline}


def symbols(nb: Any, analyze: Callable[[bytes, str], Any]) -> list[str]:
    """Defs and classes of the code cells as ``cell 3 (id 7f2a) 2-5 function load`` lines."""
    out = []
    for view in cell_views(nb, 0):
        if view.cell_type != "code" or not view.source.strip():
            continue
        label = f"cell {view.index}" + (f" (id {view.cell_id})" if view.cell_id else "")
        analysis = analyze(python_of(view.source).encode("utf-8"), "python")
        out += [f"{label} {symbol.compact()}" for symbol in analysis.symbols]
    return out


# -- grep ---------------------------------------------------------------------------------


def grep_cells(nb: Any, regex: Any, context: int, max_chars: int) -> list[dict[str, Any]]:
    """Matches of a compiled (linear-time) regex in cell sources: cell id and line in the cell."""
    matches = []
    for view in cell_views(nb, 0):
        lines = view.source.split("\n")
        for number, line in enumerate(lines, 1):
            if regex.search(line) is None:
                continue
            record: dict[str, Any] = {
                "cell": view.index,
                "cell_id": view.cell_id,
                "cell_type": view.cell_type,
                "line": number,
                "text": line[:max_chars],
            }
            if context:
                record["before"] = [t[:max_chars] for t in lines[max(0, number - 1 - context) : number - 1]]
                record["after"] = [t[:max_chars] for t in lines[number : number + context]]
            matches.append(record)
    return matches


# -- git merge conflicts ------------------------------------------------------------------

_CONFLICT_START = re.compile(r"^<{7}(?: |$)")
_CONFLICT_BASE = re.compile(r"^\|{7}(?: |$)")  # diff3 style: the common ancestor's lines
_CONFLICT_MIDDLE = re.compile(r"^={7}$")
_CONFLICT_END = re.compile(r"^>{7}(?: |$)")


@dataclass
class ConflictSides:
    """A notebook file with git merge-conflict markers, as its two sides."""

    ours: str
    theirs: str
    conflicts: int
    ours_label: str
    theirs_label: str


def conflict_sides(text: str) -> ConflictSides | None:
    """Split text holding git conflict markers into "ours" and "theirs"; None if it has no
    complete conflict (a notebook is JSON, so a marker line is never part of the file)."""
    ours: list[str] = []
    theirs: list[str] = []
    state = "both"
    conflicts = 0
    labels = ["ours", "theirs"]
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if state == "both" and _CONFLICT_START.match(bare):
            state, conflicts = "ours", conflicts + 1
            labels[0] = bare[8:].strip() or labels[0]
        elif state == "ours" and _CONFLICT_BASE.match(bare):
            state = "base"
        elif state in ("ours", "base") and _CONFLICT_MIDDLE.match(bare):
            state = "theirs"
        elif state == "theirs" and _CONFLICT_END.match(bare):
            state = "both"
            labels[1] = bare[8:].strip() or labels[1]
        elif state == "both":
            ours.append(line)
            theirs.append(line)
        elif state == "ours":
            ours.append(line)
        elif state == "theirs":
            theirs.append(line)
    if not conflicts or state != "both":
        return None
    return ConflictSides("".join(ours), "".join(theirs), conflicts, labels[0], labels[1])


# base64 as a notebook's JSON holds it: one long run, maybe split by escaped newlines
_BLOB = re.compile(r"(?:[A-Za-z0-9+/]{76,}(?:\\n|\n)?){3,}[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9+/]{240,}={0,2}")


def scrub_blobs(text: str) -> str:
    """`text` with base64 runs (images in a notebook that nbformat cannot read) replaced by
    a one-line placeholder: the raw view of a broken notebook never sends them."""
    text = data_uri.elide(text)
    return _BLOB.sub(lambda m: f"[base64 data, {size_label(len(m.group(0)) * 3 // 4)}]", text)
