"""The magics reference, generated from the code so that README and ``%mira help`` stay true.

It is handed the magics class and the subcommand table rather than importing them, so
the IPython layer's imports run one way: magics → subcommands → docs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _cell_options(magics_cls: Any) -> list[tuple[str, str]]:
    parser = magics_cls.mira.parser
    rows = []
    for action in parser._actions:
        if not action.option_strings:
            continue
        flags = ", ".join(action.option_strings)
        if action.nargs != 0:
            flags += f" {action.dest.upper()}" if not action.choices else " {" + "|".join(action.choices) + "}"
        rows.append((flags, action.help or ""))
    return rows


def magics_reference(magics_cls: Any, handlers: Mapping[str, Callable[..., Any]]) -> str:
    """Markdown reference of ``%%mira`` options, ``%mira`` subcommands and ``%mira_skill``."""
    lines = [
        "`%%mira [options]` — the cell is the request and continues the conversation; `{name}` inserts "
        "a notebook variable, `{In[n]}` / `{Out[n]}` / `{Err[n]}` / `{Err}` a cell's input, result or error.",
        "",
    ]
    lines += ["| option | meaning |", "|---|---|"]
    lines += [f"| `{flags}` | {text} |" for flags, text in _cell_options(magics_cls)]
    lines += ["", "`%mira SUBCOMMAND`:", "", "| subcommand | meaning |", "|---|---|"]
    for name, handler in sorted(handlers.items()):
        summary = (handler.__doc__ or "").strip().splitlines()[0]
        lines.append(f"| `{name}` | {summary} |")
    skill_doc = (magics_cls.mira_skill.__doc__ or "").strip().splitlines()[0]
    lines += ["", f"`%mira_skill` — {skill_doc}"]
    return "\n".join(lines)
