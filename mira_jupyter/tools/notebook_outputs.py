"""A notebook cell's outputs as text for the file tools: streams and text as they are,
images, widgets, HTML and JSON as one-line placeholders (``[image/png 640×480]``,
``[application/json 4.4 KB, object of 2 keys: rows, total]``), never base64.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from ..core.visible import strip_ansi

_TEXT_MIMES = ("text/plain", "text/markdown", "text/latex")
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
JSON_SHOWN_CHARS = 200  # a JSON output this short is shown whole, not only its shape


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _image_size(mime: str, payload: str) -> tuple[int, int] | None:
    """Width and height from the image header (PNG, GIF, JPEG), without decoding it all."""
    try:
        head = base64.b64decode(payload[: 64 * 1024] + "=" * (-len(payload[: 64 * 1024]) % 4))
    except (binascii.Error, ValueError):
        return None
    if mime == "image/png" and head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if mime == "image/gif" and head[:4] == b"GIF8" and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if mime == "image/jpeg" and head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                return None
            marker, length = head[i + 1], struct.unpack(">H", head[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", head[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return None


def size_label(n: int) -> str:
    """``812 bytes``, ``3.2 KB``."""
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} bytes"


def placeholder(mime: str, payload: Any, metadata: dict[str, Any] | None = None) -> str:
    """One line for a rich output: ``[image/png 640×480]``, ``[widget]``, ``[text/html 3.2 KB]``."""
    if mime == _WIDGET_MIME:
        return "[widget]"
    if is_json_mime(mime) or isinstance(payload, dict):
        # the value is the JSON itself (an array is not lines of text), as nbformat keeps it
        return _json_placeholder(mime, payload)
    text = _joined(payload)
    if mime in _IMAGE_MIMES and mime != "image/svg+xml":
        meta = (metadata or {}).get(mime) or {}
        size = (meta.get("width"), meta.get("height")) if isinstance(meta, dict) else (None, None)
        if not all(size):
            size = _image_size(mime, text.replace("\n", "")) or (None, None)
        if all(size):
            return f"[{mime} {size[0]}×{size[1]}]"
        return f"[{mime}]"
    return f"[{mime} {size_label(len(text.encode('utf-8')))}]"


def is_json_mime(mime: str) -> bool:
    """``application/json`` and ``application/…+json`` (plotly, vega, geo): nbformat's rule."""
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _json_placeholder(mime: str, payload: Any) -> str:
    """``[application/json 5.1 KB, object of 2 keys: rows, total]``; small ones whole."""
    import json

    compact = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    size = size_label(len(compact.encode("utf-8")))
    if len(compact) <= JSON_SHOWN_CHARS:
        return f"[{mime} {size}] {compact}"
    if not isinstance(payload, dict | list):  # a JSON scalar or string too long to show
        return f"[{mime} {size}, {_json_type(payload)}]"
    if isinstance(payload, dict):
        keys = [str(k)[:40] for k in list(payload)[:8]]
        more = f", … {len(payload) - 8} more" if len(payload) > 8 else ""
        shape = f"object of {len(payload)} key{'s' if len(payload) != 1 else ''}: {', '.join(keys)}{more}"
    else:
        kinds = sorted({_json_type(item) for item in payload[:100]})
        shape = f"array of {len(payload):,} item{'s' if len(payload) != 1 else ''}" + (f" ({', '.join(kinds)})" if kinds else "")
    return f"[{mime} {size}, {shape}]"


def output_text(output: Any) -> str:
    """One output as text: streams and text/plain as they are, rich data as placeholders."""
    kind = output.get("output_type")
    if kind == "stream":
        return strip_ansi(_joined(output.get("text", "")))
    if kind == "error":
        trace = "\n".join(output.get("traceback") or [])
        return strip_ansi(trace) or f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data") or {}
    parts = []
    text_mime = next((m for m in _TEXT_MIMES if m in data), None)
    for mime, payload in data.items():
        if mime == text_mime:
            continue
        if mime == "text/html" and text_mime:
            continue  # a DataFrame's HTML twin of its text/plain
        parts.append(placeholder(mime, payload, output.get("metadata")))
    if text_mime:
        parts.insert(0, strip_ansi(_joined(data[text_mime])))
    return "\n".join(parts)
