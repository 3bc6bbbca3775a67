"""The tracebacks of the notebook's failed cells, for ``{Err[n]}``, ``{Err}`` and ``%mira fix``.

IPython keeps inputs (``In``) and results (``Out``) but no history of errors, so the
extension listens to ``post_run_cell`` and keeps each failed cell's traceback as the user
saw it, with the terminal colour codes stripped. A hook observes; unlike
``set_custom_exc`` it never changes how the error is shown.
"""

from __future__ import annotations

import contextlib
import os
import re
import traceback
from collections import OrderedDict
from typing import Any

from ..core.visible import strip_ansi

KEEP_CELLS = 100  # errors of older cells are forgotten
MAX_TRACEBACK_CHARS = 100_000  # before the per-reference token cap


def relative_paths(text: str, root: str | os.PathLike[str] | None) -> str:
    """`text` with the project root's absolute path made relative and the home as ``~``:
    tracebacks name local files, and prompts never carry local absolute paths."""
    if root:
        base = os.path.realpath(os.fspath(root)).rstrip(os.sep)
        if base:
            text = text.replace(base + os.sep, "")
    home = os.path.expanduser("~").rstrip(os.sep)
    if home and home != os.sep.rstrip(os.sep):
        text = text.replace(home + os.sep, "~" + os.sep)
    return text


def format_error(shell: Any, error: BaseException, *, before_exec: bool = False) -> str:
    """The traceback as IPython shows it (plain text), or Python's own as a fallback.

    A cell that does not parse fails before it runs: IPython shows just the cell's line and
    the caret, and so does this (the exception's own traceback is IPython's parser frames,
    with the absolute paths of its install)."""
    try:
        if isinstance(error, SyntaxError) and before_exec:
            lines = shell.SyntaxTB.structured_traceback(type(error), error, [])
        else:
            lines = shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
        text = "\n".join(lines)
    except Exception:  # another IPython version, or no shell: the stdlib's format
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return strip_ansi(text).strip("\n")[:MAX_TRACEBACK_CHARS]


class CellErrors:
    """Tracebacks by execution count, newest last.

    A cell stopped with the kernel's interrupt (KeyboardInterrupt) is kept for ``{Err[n]}``
    but is not "the last error": there is nothing in it to fix, so ``{Err}`` and
    ``%mira fix`` mean the newest cell that really raised.
    """

    def __init__(self, shell: Any = None) -> None:
        self.shell = shell
        self.by_cell: OrderedDict[int, str] = OrderedDict()
        self.interrupted: set[int] = set()
        self.last: int | None = None  # the newest cell that raised, interrupts aside
        self.newest: int | None = None  # the newest failed cell, interrupts included

    def record(self, cell: int, text: str, *, interrupted: bool = False) -> None:
        """Keep the traceback of cell `cell`."""
        self.by_cell.pop(cell, None)
        self.by_cell[cell] = text
        self.newest = cell
        if interrupted:
            self.interrupted.add(cell)
            if self.last == cell:  # a re-run of the failed cell, interrupted this time
                self.last = next((n for n in reversed(self.by_cell) if n not in self.interrupted), None)
        else:
            self.interrupted.discard(cell)
            self.last = cell
        while len(self.by_cell) > KEEP_CELLS:
            gone, _ = self.by_cell.popitem(last=False)
            self.interrupted.discard(gone)
            if self.last == gone:
                self.last = None

    def post_run_cell(self, result: Any) -> None:
        """IPython's ``post_run_cell`` hook: record the cell's error, if it raised."""
        in_exec = getattr(result, "error_in_exec", None)
        error = in_exec or getattr(result, "error_before_exec", None)
        count = getattr(result, "execution_count", None)
        if error is None or count is None:
            return
        if type(error).__name__ == "MiraUsageError":
            return  # a %%mira cell refused its options: not an error of the user's code
        with contextlib.suppress(Exception):  # never break the user's cell over this bookkeeping
            text = format_error(self.shell, error, before_exec=in_exec is None)
            self.record(int(count), text, interrupted=isinstance(error, KeyboardInterrupt))

    def pre_run_cell(self, info: Any = None) -> None:
        """IPython's ``pre_run_cell`` hook: forget an earlier cell's display error.

        ipykernel marks a cell failed when formatting its result raised (a ``__repr__``
        that raises), and clears that mark only in its synchronous ``run_cell``. A ``%%mira``
        cell runs through ``run_cell_async`` (so its Stop button works), so after one such
        cell every later ``%%mira`` cell was reported as an error, and Run All stopped."""
        if getattr(self.shell, "_last_traceback_during_displayhook", False):
            self.shell._last_traceback_during_displayhook = False

    def register(self, shell: Any) -> None:
        """Start listening to `shell`."""
        self.shell = shell
        shell.events.register("pre_run_cell", self.pre_run_cell)
        shell.events.register("post_run_cell", self.post_run_cell)

    def unregister(self, shell: Any) -> None:
        """Stop listening."""
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_run_cell", self.post_run_cell)
        with contextlib.suppress(ValueError):
            shell.events.unregister("pre_run_cell", self.pre_run_cell)


def fenced(text: str, language: str = "") -> str:
    """`text` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def fix_request(
    cell: int, source: str | None, error: str, note: str = "", *, partial: bool = False, shown: str | None = None
) -> str:
    """The request ``%mira fix`` sends: the failed cell's source (`partial`: only part of it,
    `shown` saying which lines, see `fix_window`) and its traceback."""
    from ..core.data_uri import elide

    parts = [f"Fix the error raised by notebook cell In[{cell}]."]
    source, error = (None if source is None else elide(source)), elide(error)  # no inline base64
    if source is not None:
        what = "The cell's source"
        if partial:
            what = f"Part of the cell's source ({shown})" if shown else "The start of the cell's source"
        parts.append(f"{what}:\n{fenced(source, 'python')}")
    parts.append(f"Its traceback:\n{fenced(error)}")
    if note.strip():
        parts.append(f"Note from the user: {note.strip()}")
    answer = (
        "the corrected lines as one python code block, saying which lines of the cell they replace,"
        if partial
        else "the corrected cell as one python code block"
    )
    parts.append(
        f"Find the cause. If it is in a project file, fix that file; otherwise reply with {answer} "
        "and one sentence on what was wrong."
    )
    return "\n\n".join(parts)
