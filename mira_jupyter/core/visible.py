"""Text shown for approval made to read as it is: control and invisible characters spelled.

A terminal obeys ESC sequences and CR (``\\x1b[2K\\r`` wipes the line and writes another,
SGR 8 conceals text), and bidi controls reorder a line on screen (Trojan Source,
CVE-2021-42574): what the user approves would not be what runs. So every such character
is shown as its escape (``\\x1b``, ``\\r``, ``\\u202e``), as git and GitHub mark them.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides and
# isolates; line/paragraph separators; and every Default_Ignorable_Code_Point of Unicode
# (DerivedCoreProperties.txt: drawn as nothing): the soft hyphen, the combining grapheme
# joiner, the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), Khmer and Mongolian vowel
# marks, zero-width characters, word joiners, variation selectors, the BOM, shorthand
# format controls, musical formatting, and the TAG characters U+E0000-E0FFF
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# inside one argument of a command line a newline or tab is spelled too: shown raw it would
# make one argument read as several lines, or push the rest of the command out of view
_INVISIBLE_IN_ARG = re.compile(_INVISIBLE.pattern[:-1] + "\t\n]")


# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles) and two-byte escapes
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI.sub("", text)


_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _spell(match: re.Match[str]) -> str:
    code = ord(match[0])
    if match[0] in _NAMED:
        return _NAMED[match[0]]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with every control or invisible character (not tab or newline) escaped."""
    return _INVISIBLE.sub(_spell, text)


def has_invisible(text: str) -> bool:
    """Whether `text` holds a character that `visible` would escape."""
    return _INVISIBLE.search(text) is not None


def visible_command(argv: list[str]) -> str:
    """A command line as a shell would quote it, each argument on one visible line: control,
    invisible, newline and tab characters inside an argument spelled."""
    import shlex

    return " ".join(shlex.quote(_INVISIBLE_IN_ARG.sub(_spell, arg)) for arg in argv)
