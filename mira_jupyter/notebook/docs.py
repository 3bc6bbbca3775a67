"""The magics reference, generated from the code so that README and ``%mira help`` stay true."""

from __future__ import annotations


def _cell_options() -> list[tuple[str, str]]:
    from .magics import MiraMagics

    parser = MiraMagics.mira.parser
    rows = []
    for action in parser._actions:
        if not action.option_strings:
            continue
        flags = ", ".join(action.option_strings)
        if action.nargs != 0:
            flags += f" {action.dest.upper()}" if not action.choices else " {" + "|".join(action.choices) + "}"
        rows.append((flags, action.help or ""))
    return rows


def magics_reference() -> str:
    """Markdown reference of ``%%mira`` options, ``%mira`` subcommands and ``%mira_skill``."""
    from .magics import MiraMagics
    from .subcommands import HANDLERS

    lines = ["`%%mira [options]` — the cell is the request; `{name}` inserts a notebook variable.", ""]
    lines += ["| option | meaning |", "|---|---|"]
    lines += [f"| `{flags}` | {text} |" for flags, text in _cell_options()]
    lines += ["", "`%mira SUBCOMMAND`:", "", "| subcommand | meaning |", "|---|---|"]
    for name, handler in sorted(HANDLERS.items()):
        summary = (handler.__doc__ or "").strip().splitlines()[0]
        lines.append(f"| `{name}` | {summary} |")
    skill_doc = (MiraMagics.mira_skill.__doc__ or "").strip().splitlines()[0]
    lines += ["", f"`%mira_skill` — {skill_doc}"]
    return "\n".join(lines)
