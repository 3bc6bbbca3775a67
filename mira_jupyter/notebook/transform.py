"""Input transformers: the ``%mira`` lines that run an operation become awaited coroutines.

(IPython cleanup stage, in a kernel with autoawait.) A synchronous magic blocks the kernel's
event loop, so widget clicks wait until the cell ends; awaited, the loop runs and the Stop,
Approve and Reject buttons work. That holds for a ``%%mira`` cell and for the lines that
start an operation: ``%mira run``, ``%mira fix`` and ``%mira_skill NAME request``. Everything
else about them (options, ``{expr}`` expansion, the returned Operation) is unchanged.
"""

from __future__ import annotations

# the %mira subcommands that run an operation (the others only read the log)
RUNS = ("run", "fix")


def async_cell_transformer(lines: list[str]) -> list[str]:
    """Rewrite a ``%%mira`` cell, and ``%mira run`` / ``fix`` / ``%mira_skill`` lines, into
    awaited coroutines."""
    if not lines:
        return lines
    if lines[0].startswith("%%mira"):
        first = lines[0].rstrip("\n")
        line = first[len("%%mira") :]
        if line and not line[0].isspace():  # another magic, e.g. %%mira_something
            return lines
        cell = "".join(lines[1:])
        return [f"await get_ipython()._mira_magics.mira_async({line.strip()!r}, {cell!r})\n"]
    if lines[0].startswith("%%"):  # another cell magic owns the whole cell
        return lines
    return [_awaited_run(line) for line in lines]


def _awaited_run(line: str) -> str:
    # only at the start of a line: an indented %mira (in a block) stays as IPython has it
    words = line.split(None, 2)
    if len(words) < 2 or not line.startswith("%mira"):
        return line
    if words[0] == "%mira" and words[1] in RUNS:
        method = "mira_line_async"
    elif words[0] == "%mira_skill" and len(words) == 3:  # NAME and a request: it runs
        method = "mira_skill_async"
    else:
        return line
    rest = line.rstrip("\n")[len(words[0]) :].strip()
    # var_expand keeps IPython's {expr} and $name expansion of line magics: %mira run {op.id}
    return f"await get_ipython()._mira_magics.{method}(get_ipython().var_expand({rest!r}))\n"


def help_end_guard(lines: list[str]) -> list[str]:
    """Keep IPython's help syntax off ``%mira`` and ``%mira_skill`` lines that end in ``?``.

    (IPython cleanup stage, every shell.) ``%mira fix why does this fail?`` is a question to
    the agent, but IPython reads a line ending in ``?`` as a request for help on the magic,
    and the magic never ran. A line with a subcommand and more words after it is rewritten to
    the call IPython makes for a magic line (with its ``{expr}`` expansion); ``%mira?`` and
    ``%mira history?`` still ask IPython for help.
    """
    if not lines or lines[0].startswith("%%"):
        return lines
    return [_guarded(line) for line in lines]


def _guarded(line: str) -> str:
    words = line.split()
    if len(words) < 3 or words[0] not in ("%mira", "%mira_skill") or not line.rstrip().endswith("?"):
        return line
    indent = line[: len(line) - len(line.lstrip())]  # a magic line inside a block stays in it
    rest = line.strip()[len(words[0]) :].strip()
    return f"{indent}get_ipython().run_line_magic({words[0][1:]!r}, {rest!r})\n"
