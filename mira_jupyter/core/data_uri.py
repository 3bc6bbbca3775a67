"""Inline base64 data (``data:image/png;base64,iVBOR…``) as a short placeholder.

A markdown cell with a pasted image, an HTML or Markdown output with an embedded picture, a
cell that builds an ``<img src="data:…">`` string: each carries kilobytes of base64 that mean
nothing to a model and cost real tokens. Everywhere notebook content reaches a model the
payload is replaced by ``[data URI image/png 2.4 KB #1f0c9a3e]``: the type and the size say
what was there, and the tag (a hash of the URI) lets an edit that copies the placeholder back
put the real data back (see `restore`), so the file never loses its image.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MIN_PAYLOAD_CHARS = 64  # shorter payloads (a 1×1 pixel, a tiny icon) cost less than a placeholder

# RFC 2397: data:[<mediatype>][;param=value]*;base64,<data> (standard or URL-safe alphabet)
_DATA_URI = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w.+-]+=[\w.+%-]*)*;base64,"
    rf"(?P<payload>[A-Za-z0-9+/_-]{{{MIN_PAYLOAD_CHARS},}}(?:%3D|=){{0,2}})",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[data URI [^\s\]]+ [\d.]+ (?:bytes|KB|MB) #(?P<tag>[0-9a-f]{8})\]")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} bytes"


def _tag(uri: str) -> str:
    return hashlib.sha1(uri.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def placeholder_of(uri: str) -> str:
    """The placeholder one whole data URI is shown as."""
    match = _DATA_URI.fullmatch(uri)
    mime = (match.group("mime") if match else None) or "text/plain"  # RFC 2397's default
    payload = match.group("payload") if match else uri
    return f"[data URI {mime.lower()} {_size(len(payload) * 3 // 4)} #{_tag(uri)}]"


def elide(text: str) -> str:
    """`text` with every data URI whose base64 payload is 64+ characters replaced by its
    placeholder; everything else is unchanged (no line is added or removed)."""
    if "base64," not in text.lower():
        return text
    return _DATA_URI.sub(lambda m: placeholder_of(m.group(0)), text)


def uris_in(texts: Iterable[str]) -> dict[str, str]:
    """Every data URI `elide` would replace in `texts`, by the tag its placeholder shows."""
    found: dict[str, str] = {}
    for text in texts:
        for match in _DATA_URI.finditer(text):
            found.setdefault(_tag(match.group(0)), match.group(0))
    return found


class UnknownPlaceholder(ValueError):
    """A placeholder whose data is nowhere in the file being edited."""


def restore(text: str, known: dict[str, str]) -> str:
    """`text` with each placeholder replaced by the data URI it stands for (`known`, from
    `uris_in`); raises UnknownPlaceholder for one whose data is not known, so that an edit
    never writes a placeholder where an image was."""

    def back(match: re.Match[str]) -> str:
        uri = known.get(match.group("tag"))
        if uri is None:
            raise UnknownPlaceholder(
                f"{match.group(0)} stands for data this notebook does not hold: keep such a "
                "placeholder only where read_file showed it, or write the real data"
            )
        return uri

    return _PLACEHOLDER.sub(back, text)
