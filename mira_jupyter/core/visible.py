"""Text shown for approval made to read as it is: control and invisible characters spelled.

A terminal obeys ESC sequences and CR (``\\x1b[2K\\r`` wipes the line and writes another,
SGR 8 conceals text), and bidi controls reorder a line on screen (Trojan Source,
CVE-2021-42574): what the user approves would not be what runs. So every such character
is shown as its escape (``\\x1b``, ``\\r``, ``\\u202e``), as git and GitHub mark them.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides and
# isolates; zero-width characters, line/paragraph separators, the BOM
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles) and two-byte escapes
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI.sub("", text)


def _spell(match: re.Match[str]) -> str:
    code = ord(match[0])
    if match[0] == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control or invisible character (not tab or newline) escaped."""
    return _INVISIBLE.sub(_spell, text)


def has_invisible(text: str) -> bool:
    """Whether `text` holds a character that `visible` would escape."""
    return _INVISIBLE.search(text) is not None
