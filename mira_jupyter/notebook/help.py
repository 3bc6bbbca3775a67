"""``--help`` for every magic: parsers that never exit the kernel, and one clear output.

Every ``%mira`` subcommand declares its options with `takes` (like IPython's
``@magic_arguments``), so ``%mira NAME --help``, ``%mira help`` and the README's reference
are all generated from the same parsers, a subcommand added later included.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from .args import MiraUsageError

Handler = TypeVar("Handler", bound=Callable[..., Any])
HELP_FLAGS = ("-h", "--help")


class HelpRequested(Exception):  # noqa: N818 - a request, not an error
    """``-h``/``--help`` was given: show `text` (plain) or `markdown` and run nothing."""

    def __init__(self, text: str, markdown: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.markdown = markdown


class SubcommandError(MiraUsageError):
    """A bad subcommand argument: shown as one line, and the cell fails."""


class CommandParser(argparse.ArgumentParser):
    """An argparse parser for a magic: errors are one-line usage errors, help is raised."""

    def __init__(self, prog: str, description: str | None = None, **options: Any) -> None:
        super().__init__(prog=prog, description=description, add_help=True, **options)

    def error(self, message: str) -> NoReturn:  # argparse would exit the kernel's process
        raise SubcommandError(f"{self.prog}: {message}; see {self.prog} --help")

    def print_help(self, file: Any = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise SubcommandError(f"{self.prog}: {message or 'stopped'}".strip())


def cell_parser(magic_parser: argparse.ArgumentParser) -> CommandParser:
    """``%%mira``'s options (declared with IPython's ``@argument``) in a plain parser, whose
    help reads ``usage: %%mira ...`` without IPython's reStructuredText markup."""
    return CommandParser(
        "%%mira",
        description="The cell below the options is the request; it continues the conversation.",
        parents=[magic_parser],
    )


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One ``add_argument`` call, for `takes`."""
    return flags, options


def summary(function: Callable[..., Any]) -> str:
    """The first line of a function's docstring."""
    lines = (function.__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""


def takes(*arguments: tuple[tuple[str, ...], dict[str, Any]]) -> Callable[[Handler], Handler]:
    """Declare a ``%mira`` subcommand's options; ``handler.parser()`` builds its parser.

    The name is the function's (a trailing ``_`` dropped: ``help_`` is ``%mira help``).
    """

    def decorate(handler: Handler) -> Handler:
        name = handler.__name__.rstrip("_")

        def parser() -> CommandParser:
            built = CommandParser(prog=f"%mira {name}", description=summary(handler))
            for flags, options in arguments:
                if "help" in options:  # argparse %-formats help texts: "%mira" is "%%mira" there
                    options = {**options, "help": options["help"].replace("%", "%%")}
                built.add_argument(*flags, **options)
            return built

        handler.parser = parser  # type: ignore[attr-defined]
        return handler

    return decorate


def parser_of(handler: Callable[..., Any]) -> CommandParser | None:
    """The parser a subcommand declared with `takes`, or None."""
    build = getattr(handler, "parser", None)
    return build() if callable(build) else None


def asks_for_help(words: list[str]) -> bool:
    """Whether `words` are exactly a help flag (for commands whose arguments are free text)."""
    return len(words) == 1 and words[0] in HELP_FLAGS


def show_help(request: HelpRequested) -> None:
    """One output: Markdown where the frontend renders it (Jupyter), else the plain text."""
    from IPython.display import display

    from ..core.markup import maths_free_markdown

    bundle = {"text/plain": request.text}
    if request.markdown is not None:
        bundle["text/markdown"] = maths_free_markdown(request.markdown)
    display(bundle, raw=True)
