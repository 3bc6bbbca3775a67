"""``%mira fix`` and the operations ``%mira`` lines start (fix, ``%mira_skill NAME request``).

Such a line returns a `Pending` run instead of running it: the caller runs it on the one run
path, awaited in a kernel (`MiraMagics.run_pending_async`: the event loop keeps turning, so
the live widget's Stop button and its Approve / Reject buttons work, as in a ``%%mira`` cell)
or blocking elsewhere (terminal IPython, the library).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .help import SubcommandError, arg, takes

if TYPE_CHECKING:
    from .magics import MiraMagics


@dataclass
class Pending:
    """An operation a ``%mira`` line asks for, not yet run."""

    request: str
    skill: str | None = None


@takes(arg("note", nargs=argparse.REMAINDER, help="Words passed on with the error, e.g. 'keep the API'."))
def fix(magics: MiraMagics, argv: list[str]) -> Pending:
    """Send the last error with its cell's source and ask for a fix."""
    note = fix.parser().parse_args(argv).note
    from .cell_errors import fix_request, relative_paths

    errors = magics.cell_errors
    if errors.newest is not None and errors.newest in errors.interrupted:
        earlier = (
            f"the last error was In[{errors.last}]: put {{Err[{errors.last}]}} in a %%mira cell to fix that one"
            if errors.last is not None and errors.last in errors.by_cell
            else "no cell has raised an error"
        )
        raise SubcommandError(
            f"fix: In[{errors.newest}] was interrupted (KeyboardInterrupt), not an error to fix; {earlier}"
        )
    if errors.last is None or errors.last not in errors.by_cell:
        raise SubcommandError("fix: no cell has raised an error in this kernel yet")
    cell = errors.last
    from .interpolate import raw_inputs

    inputs = raw_inputs(magics.shell)  # the cell as typed, which the fix replaces
    source = inputs[cell] if inputs is not None and 0 < cell < len(inputs) else None
    cap = magics.interpolation_cap()
    from .fix_window import cap_both_ends, cell_window, failing_line
    from .interpolate import scrub  # no key values, no inline base64: before the caps

    traceback_text = scrub(relative_paths(errors.by_cell[cell], magics.mira_config.resolved_root()))
    window = None
    if source is not None:
        # a long cell keeps the lines around the one that failed, not its first lines
        line = failing_line(errors.by_cell[cell], cell)
        window = cell_window(scrub(source), line, cap)
    request = fix_request(
        cell,
        None if window is None else window.text,
        cap_both_ends(traceback_text, cap),
        " ".join(note),
        partial=window is not None and window.partial,
        shown=None if window is None else window.label(line, len(source.split("\n"))),
    )
    return Pending(request)


def options_of(pending: Pending) -> Any:
    """The RunOptions of a pending run."""
    from ..engine.engine import RunOptions

    return RunOptions(skill=pending.skill)
