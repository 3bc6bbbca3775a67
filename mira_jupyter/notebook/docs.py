"""The magics reference, generated from the parsers so that README and ``%mira help`` stay true.

It is handed the magics class and the subcommand table rather than importing them, so
the IPython layer's imports run one way: magics → subcommands → docs. A subcommand that
declares its options with `help.takes` gets them listed here and in ``--help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from .help import cell_parser, parser_of, summary

CELL_INTRO = (
    "`%%mira [options]` — the cell is the request and continues the conversation; `{name}` inserts "
    "a notebook variable, `{In[n]}` / `{Out[n]}` / `{Err[n]}` / `{Err}` a cell's input, result or error."
)


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:  # a positional: its name as the usage line shows it
        name = action.metavar or action.dest.upper()
        if action.nargs in ("?", "*", argparse.REMAINDER):
            return f"[{name}…]" if action.nargs != "?" else f"[{name}]"
        return f"{name}…" if action.nargs == "+" else name
    flags = ", ".join(action.option_strings)
    if action.nargs != 0:
        flags += " {" + "|".join(action.choices) + "}" if action.choices else f" {action.metavar or action.dest.upper()}"
    return flags


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in parser._actions if "--help" not in action.option_strings]


def _rows(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(flags, help) of every argument but -h/--help (help as shown, not as %-formatted)."""
    return [(_flags(action), (action.help or "").replace("%%", "%")) for action in _arguments(parser)]


def _cell(text: str) -> str:
    # a "|" splits a GFM table cell even inside a code span unless escaped
    return text.replace("|", "\\|")


def _table(rows: list[tuple[str, str]], head: str) -> list[str]:
    lines = [f"| {head} | meaning |", "|---|---|"]
    return lines + [f"| `{_cell(flags)}` | {_cell(text)} |" for flags, text in rows]


def _usage(parser: argparse.ArgumentParser) -> str:
    """``%mira run OP_ID [--budget BUDGET]``: positionals first, as people type them."""
    actions = _arguments(parser)
    words = [_flags(a) for a in actions if not a.option_strings]
    for action in actions:
        if action.option_strings:
            words.append(f"[{_flags(action).split(', ')[-1]}]")
    return " ".join([parser.prog, *words])


def magics_reference(magics_cls: Any, handlers: Mapping[str, Callable[..., Any]], skill_parser: Any = None) -> str:
    """Markdown reference of ``%%mira`` options, ``%mira`` subcommands with their options, and ``%mira_skill``."""
    lines = [CELL_INTRO, ""]
    lines += _table(_rows(magics_cls.mira.parser), "option")
    lines += ["", "`%mira SUBCOMMAND`:", "", "| subcommand | meaning |", "|---|---|"]
    for name, handler in sorted(handlers.items()):
        lines.append(f"| `{name}` | {summary(handler)} |")
    for _name, handler in sorted(handlers.items()):
        parser = parser_of(handler)
        rows = _rows(parser) if parser is not None else []
        if rows:
            lines += ["", f"`{_usage(parser)}`", ""] + _table(rows, "argument")
    skill_doc = summary(magics_cls.mira_skill)
    lines += ["", f"`%mira_skill` — {skill_doc}"]
    if skill_parser is not None:
        lines += [""] + _table(_rows(skill_parser), "argument")
    lines += ["", "Every command takes `-h` / `--help`: it prints the command's options and runs nothing."]
    return "\n".join(lines)


def magics_help_text(magics_cls: Any, handlers: Mapping[str, Callable[..., Any]], skill_parser: Any = None) -> str:
    """The same reference as plain text (a terminal): each command's argparse help."""
    parts = [cell_parser(magics_cls.mira.parser).format_help().rstrip()]
    for name, handler in sorted(handlers.items()):
        parser = parser_of(handler)
        parts.append(parser.format_help().rstrip() if parser is not None else f"%mira {name}: {summary(handler)}")
    if skill_parser is not None:
        parts.append(skill_parser.format_help().rstrip())
    return "\n\n".join(parts)
