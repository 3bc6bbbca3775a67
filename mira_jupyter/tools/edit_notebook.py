"""edit_notebook: replace, insert or delete one cell of a notebook, through the sandbox.

Rewriting a notebook's JSON by hand loses outputs, breaks ids and invites invalid files.
This tool changes exactly one cell through `nbformat`: every other cell keeps its source,
outputs, metadata and id; the notebook's metadata is untouched; an edit that adds a schema error
(``nbformat``'s validator) is refused and nothing is written, while errors the file already
had are left as they were and reported, not blamed on the edit. The file keeps its own formatting
(indent, key order, line endings, trailing newline): only the edited cell's text changes,
see `notebook_splice`. The write goes through write_file's path (the sandbox, an atomic
replace, the undo record), so ``%mira undo`` restores the file byte for byte.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..core import data_uri
from .base import ToolArgs, sandbox_of
from .files import write_with_undo
from .notebook_splice import edited_text, whole_in_style
from .notebooks import (
    MAX_NOTEBOOK_BYTES,
    NotebookError,
    conflict_sides,
    is_notebook,
    parse,
    source_of,
)
from .sandbox import SandboxDenied
from .types import ToolContext, ToolResult, tool


class EditNotebookArgs(ToolArgs):
    """Arguments of edit_notebook."""

    path: str = Field(description="The .ipynb file, relative to the project root.")
    action: Literal["replace", "insert_after", "delete"] = Field(
        description="replace a cell's source, insert a new cell after one, or delete one."
    )
    cell_id: str | None = Field(
        None,
        description="The target cell's id (from read_file). For insert_after, omit it to insert "
        "at the top (this also creates a new notebook if the file does not exist).",
    )
    cell_index: int | None = Field(
        None, ge=0, description="The target cell's index, for notebooks whose cells have no ids."
    )
    source: str = Field("", description="The new cell's source (replace, insert_after).")
    cell_type: Literal["code", "markdown", "raw"] | None = Field(
        None, description="Type of the inserted cell (default code); for replace, changes the type."
    )


def _new_notebook() -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _new_cell(nb: Any, cell_type: str, source: str) -> Any:
    import nbformat

    make = {
        "code": nbformat.v4.new_code_cell,
        "markdown": nbformat.v4.new_markdown_cell,
        "raw": nbformat.v4.new_raw_cell,
    }[cell_type]
    cell = make(source)
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        cell.pop("id", None)  # ids arrived in 4.5; an older notebook must stay valid as it is
    return cell


def _find(nb: Any, args: EditNotebookArgs) -> int:
    if args.cell_id is not None:
        for index, cell in enumerate(nb.cells):
            if cell.get("id") == args.cell_id:
                return index
        known = ", ".join(str(c.get("id")) for c in nb.cells[:30] if c.get("id")) or "none (use cell_index)"
        raise SandboxDenied("invalid_arguments", f"no cell with id {args.cell_id!r}; ids: {known}")
    if args.cell_index is not None:
        if args.cell_index >= len(nb.cells):
            raise SandboxDenied(
                "invalid_arguments", f"cell_index {args.cell_index} is past the last cell ({len(nb.cells) - 1})"
            )
        return args.cell_index
    raise SandboxDenied("invalid_arguments", f"{args.action} needs cell_id (or cell_index)")


def _label(nb: Any, index: int) -> str:
    cell_id = nb.cells[index].get("id")
    return f"cell {index}" + (f" (id {cell_id})" if cell_id else "")


def _apply(nb: Any, args: EditNotebookArgs) -> tuple[str, int | None]:
    """Make the edit in place; returns a summary and the index of the cell changed."""
    if args.action == "insert_after":
        at = 0 if args.cell_id is None and args.cell_index is None else _find(nb, args) + 1
        nb.cells.insert(at, _new_cell(nb, args.cell_type or "code", args.source))
        return f"inserted {_label(nb, at)}", at
    index = _find(nb, args)
    if args.action == "delete":
        label = _label(nb, index)
        del nb.cells[index]
        return f"deleted {label}", None
    cell = nb.cells[index]
    if args.cell_type and args.cell_type != cell.cell_type:
        # a new type needs the new type's fields; id and metadata carry over
        new = _new_cell(nb, args.cell_type, args.source)
        if "id" in cell:
            new["id"] = cell["id"]
        new["metadata"] = cell.get("metadata", {})
        nb.cells[index] = new
    else:
        cell["source"] = args.source
        if cell.cell_type == "code":
            # the old outputs belong to the old code
            cell["outputs"] = []
            cell["execution_count"] = None
    return f"replaced {_label(nb, index)}", index


def _problems(nb: Any) -> dict[tuple[Any, ...], str]:
    """The notebook's schema errors, keyed so that the same error in the same cell has the
    same key before and after an edit (cells are named by id, else by object, not by index,
    which an insert or delete shifts); the value is the error's first line."""
    from nbformat.validator import iter_validate

    cells = nb.get("cells", [])
    found: dict[tuple[Any, ...], str] = {}
    for error in iter_validate(nb):
        path = list(error.absolute_path)
        where: Any = None
        if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int) and path[1] < len(cells):
            cell = cells[path[1]]
            where = cell.get("id") or f"object {id(cell)}"
            path = path[2:]
        key = (where, tuple(path), error.validator, tuple(error.schema_path))
        found.setdefault(key, str(error.message).strip().splitlines()[0][:300])
    return found


def _strings(value: Any) -> Any:
    """Every string in a notebook's cells (sources, outputs, metadata), however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            yield "".join(value)  # a source or text kept as a list of lines is one text
        else:
            for item in value:
                yield from _strings(item)


def _write(sandbox: Any, path: str, data: bytes, ctx: ToolContext) -> ToolResult | None:
    """Write like write_file (atomic, once the undo record is safe); an error result or None."""
    outcome = write_with_undo(sandbox, path, data, ctx, tool="edit_notebook")
    return outcome if isinstance(outcome, ToolResult) else None


@tool(writes=True)
def edit_notebook(args: EditNotebookArgs, ctx: ToolContext) -> ToolResult:
    """Change one cell of a Jupyter notebook (.ipynb): replace a cell's source, insert a
    cell after a cell id (or at the top; this creates a missing notebook), or delete a cell.
    Other cells keep their outputs and metadata; the result is validated before it is written.

    The write is atomic, through the sandbox, with an undo record.
    """
    import nbformat

    if not is_notebook(args.path):
        return ToolResult.denied("invalid_arguments", f"{args.path!r} is not a .ipynb notebook: use write_file")
    sandbox = sandbox_of(ctx)
    target = sandbox.check_writable(args.path)
    if target.exists:
        with sandbox.open_read(args.path) as (handle, stat, _):
            if stat.st_size > MAX_NOTEBOOK_BYTES:
                return ToolResult.denied("too_large", f"{target.rel} is over the {MAX_NOTEBOOK_BYTES:,}-byte notebook cap")
            data = handle.read()
        try:
            nb = parse(data, convert=False)
        except NotebookError as exc:
            sides = conflict_sides(data.decode("utf-8", "replace"))
            if sides is not None:
                n = sides.conflicts
                return ToolResult.error(
                    f"{target.rel} has {n} unresolved git merge conflict{'s' if n != 1 else ''}: "
                    "resolve them first (write the resolved notebook with write_file, or ask the "
                    "user); nothing was written"
                )
            return ToolResult.error(f"{target.rel}: {exc}; nothing was written")
        if nb.get("nbformat") != 4:
            return ToolResult.denied(
                "invalid_arguments",
                f"{target.rel} is nbformat {nb.get('nbformat')}: only version 4 notebooks are edited "
                "(open and save it in Jupyter to upgrade it)",
            )
    elif args.action == "insert_after" and args.cell_id is None and args.cell_index is None:
        nb = _new_notebook()
    else:
        return ToolResult.denied("not_found", f"{target.rel} does not exist (insert_after without a cell creates it)")
    try:
        # read_file shows inline base64 as a placeholder: a source copied from it gets its data back
        known = data_uri.uris_in(_strings(nb.cells))
        args = args.model_copy(update={"source": data_uri.restore(args.source, known)})
    except data_uri.UnknownPlaceholder as exc:
        return ToolResult.error(f"{exc}; nothing was written")
    before = _problems(nb)
    # the index the edit acts on, before it shifts anything (a deleted cell's, too)
    if args.action == "insert_after":
        at = 0 if args.cell_id is None and args.cell_index is None else _find(nb, args) + 1
    else:
        at = _find(nb, args)
    summary, index = _apply(nb, args)
    after = _problems(nb)
    added = [message for key, message in after.items() if key not in before]
    if added:
        return ToolResult.error(f"the edit would make an invalid notebook ({added[0]}); nothing was written")
    if target.exists:
        # the file's own formatting: only the edited cell's text changes (or, when other
        # cells must change too, the whole file is written in its own style)
        original = data.decode("utf-8")
        bom = "\ufeff" if original.startswith("\ufeff") else ""  # kept, as the file had it
        original = original.removeprefix(bom)
        text = bom + (edited_text(original, nb, args.action, at) or whole_in_style(original, nb))
    else:
        # writes_json, not nbformat.writes: the latter logs an already-invalid notebook as an error
        text = nbformat.v4.writes_json(nb)
        if not text.endswith("\n"):
            text += "\n"  # as nbformat.write and Jupyter save it
    failure = _write(sandbox, args.path, text.encode("utf-8"), ctx)
    if failure is not None:
        return failure
    content: dict[str, Any] = {
        "summary": f"{summary} of {target.rel}",
        "path": target.rel,
        "cells": len(nb.cells),
        "created": not target.exists,
    }
    if after:
        # the file was invalid before the edit: say so, but do not blame or refuse the edit
        content["note"] = (
            f"the notebook was already invalid before this edit ({next(iter(after.values()))}); "
            "those parts were left as they were"
        )
    if index is not None:
        content["cell_index"] = index
        content["cell_id"] = nb.cells[index].get("id")
        content["source_lines"] = len(source_of(nb.cells[index]).splitlines())
    return ToolResult.ok(**content)
