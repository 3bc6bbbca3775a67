"""Deciding how an operation is shown: a live widget in a kernel, text elsewhere.

Order: an explicit ``widget``/``text`` preference (``%%mira --view`` or ``Mira.view``), then
the ``MIRA_VIEW`` environment variable, then detection. Widgets need a kernel
(ZMQInteractiveShell: JupyterLab, Notebook 7, VS Code, and also nbclient/nbconvert, which
apply the final display update so the saved notebook keeps the static rendering). Terminal
IPython and plain Python get text. nbval records a cell's first display and ignores display
updates, so notebooks tested under nbval should run with ``MIRA_VIEW=text``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal, TextIO

from ..core.views import view_from_env

ViewKind = Literal["widget", "text"]


def _current_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def is_kernel(shell: Any) -> bool:
    """True when `shell` is a Jupyter kernel's shell (checked by class name, no ipykernel import)."""
    return shell is not None and any(
        cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__
    )


def interactive_frontend(shell: Any = None) -> bool:
    """Whether a person's frontend sent the running cell (JupyterLab allows stdin; nbclient and
    nbconvert do not): only then are Insert as cell buttons offered, and kept live."""
    shell = _current_shell() if shell is None else shell
    return bool(getattr(getattr(shell, "kernel", None), "_allow_stdin", False))


def prompt_available(shell: Any = None) -> bool:
    """Whether ``input()`` can reach a person: a terminal, or a kernel allowing stdin."""
    shell = _current_shell() if shell is None else shell
    if is_kernel(shell):
        return interactive_frontend(shell)
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stdin
        return False


def widgets_available() -> bool:
    """True when ipywidgets can be imported."""
    return importlib.util.find_spec("ipywidgets") is not None


def view_kind(
    preference: str | None = None, *, shell: Any = None, env: Mapping[str, str] | None = None
) -> ViewKind:
    """'widget' or 'text' for this preference and environment (`shell` defaults to IPython's)."""
    env = os.environ if env is None else env
    choice = (preference or "auto").strip().lower()
    if choice not in ("widget", "text"):
        choice = view_from_env(env)
    if choice == "text":
        return "text"
    shell = _current_shell() if shell is None else shell
    # even when asked for, a widget cannot render without a kernel and its frontend
    if is_kernel(shell) and widgets_available():
        return "widget"
    return "text"


def choose_view(
    preference: str | None = None,
    *,
    session: Any = None,
    interactive: bool = True,
    on_stop: Callable[[str], Any] | None = None,
    on_run: Callable[[str], Any] | None = None,
    on_insert: Callable[[str], Any] | None = None,
    shell: Any = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> Callable[[Any], None]:
    """A new view (an event sink) for one operation: OperationWidget or TextView.

    `interactive=False` (``%mira show``) leaves out the Stop and Run buttons. With a
    `session` and no `on_run`, the Run button of a plan-only operation resumes it in the
    same session, in this same widget: the plan's progress, answer, files and cost stream
    into the cell that showed the plan, and Stop stops the run.
    """
    # approvals are answered only where a person can: a frontend that allows stdin, a terminal
    decide = getattr(getattr(session, "approvals", None), "decide", None) if interactive else None
    if view_kind(preference, shell=shell, env=env) == "text":
        from .ask import PromptAsker
        from .text import TextView

        waiting = getattr(getattr(session, "approvals", None), "waiting", None)
        asker = PromptAsker(decide, waiting=waiting) if decide is not None and prompt_available(shell) else None
        return TextView(stream, ask=asker)
    from .widget import OperationWidget

    if not interactive:
        return OperationWidget()
    if on_insert is None and interactive_frontend(shell):
        from .insert import insert_cell_below

        on_insert = insert_cell_below
    buttons = decide if interactive_frontend(shell) else None
    widget = OperationWidget(on_stop=on_stop, on_run=on_run, on_insert=on_insert, on_decide=buttons)
    if on_run is None and session is not None:

        def run_plan(operation_id: str) -> Any:
            from ..core.cancel import CancelToken

            if operation_id not in session.engine.planned_operations():
                # e.g. %mira run already ran it: say so in the widget rather than fail unseen
                raise ValueError(f"{operation_id} is no longer waiting to run")
            cancel = CancelToken()
            widget.on_stop = lambda _op: cancel.cancel("stopped with the Stop button")
            # on the kernel's event loop, so that the Stop click is handled while it runs
            # (what the run prints goes into the widget's Output, as the click has no cell)
            return session.resume_soon(operation_id, view=widget, cancel=cancel, output=widget.run_output)

        widget.on_run = run_plan
    return widget
