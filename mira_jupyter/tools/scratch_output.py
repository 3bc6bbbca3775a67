"""What one ``run_code`` call printed and returned, collected from the scratch kernel's
Jupyter messages: streams and displays in order (images as placeholders), the result's
text/plain, and the error with its traceback, all capped, without ANSI codes and with
credentials scrubbed."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from .command_run import clean_output, trim_partial

RESULT_CHARS = 4_000  # of the last expression's text/plain
TRACEBACK_CHARS = 6_000  # of the traceback, kept from its end (where the error is)


@dataclass(frozen=True)
class OutputLimits:
    """How much of a call's output is kept, and past how much it is stopped."""

    head_chars: int = 3_000
    tail_chars: int = 7_000
    max_chars: int = 2 * 1024**2  # printed text past this stops the call (interrupt)


def _plain(data: dict[str, Any]) -> str:
    text = data.get("text/plain", "")
    return text if isinstance(text, str) else str(text)


def _placeholder(data: dict[str, Any]) -> str | None:
    """'[image/png, 12,345 bytes: <Figure ...>]' for a display holding an image."""
    for mime, value in data.items():
        if mime.startswith("image/") or mime == "application/pdf":
            size = len(value) if isinstance(value, str | bytes) else 0
            label = _plain(data)[:200]
            return f"[{mime}, {size:,} bytes{': ' + label if label else ''}]"
    return None


class OutputCollector:
    """Takes the iopub messages of one execution; keeps a head and a tail of the output."""

    def __init__(self, limits: OutputLimits | None = None) -> None:
        self.limits = limits or OutputLimits()
        self.head: list[str] = []
        self.head_len = 0
        self.tail: deque[str] = deque()
        self.tail_len = 0
        self.total = 0
        self.result: str | None = None
        self.error: dict[str, str] | None = None
        self.images = 0

    @property
    def over(self) -> bool:
        """Past the output limit: the call is to be stopped."""
        return self.total > self.limits.max_chars

    def add(self, text: str) -> None:
        """Append printed text, keeping only what the caps allow."""
        self.total += len(text)
        room = self.limits.head_chars * 2 - self.head_len
        if room > 0:
            self.head.append(text[:room])
            self.head_len += min(room, len(text))
            text = text[room:]
        if text:
            self.tail.append(text)
            self.tail_len += len(text)
            while self.tail and self.tail_len - len(self.tail[0]) >= self.limits.tail_chars * 2:
                self.tail_len -= len(self.tail.popleft())

    def handle(self, msg: dict[str, Any]) -> None:
        """Take one iopub message of the execution."""
        kind, content = msg.get("msg_type"), msg.get("content") or {}
        if kind == "stream":
            self.add(str(content.get("text", "")))
        elif kind in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data") or {}
            placeholder = _placeholder(data)
            if placeholder is not None:
                self.images += 1
            if kind == "execute_result":
                self.result = placeholder or _plain(data)[: RESULT_CHARS * 2]
            else:
                self.add((placeholder or _plain(data)) + "\n")
        elif kind == "error":
            trace = "\n".join(str(line) for line in content.get("traceback") or [])
            self.error = {
                "ename": str(content.get("ename", ""))[:200],
                "evalue": str(content.get("evalue", ""))[:2_000],
                "traceback": trace[-TRACEBACK_CHARS * 2 :],
            }

    def output(self, redact: list[str]) -> tuple[str, bool]:
        """The printed text, capped, cleaned and scrubbed; and whether any was left out."""
        limits = self.limits
        head, tail = "".join(self.head), "".join(self.tail)
        if self.total == self.head_len + self.tail_len:
            whole = clean_output(head + tail, redact)
            if len(whole) <= limits.head_chars + limits.tail_chars:
                return whole, False
            head, tail = whole[: limits.head_chars], whole[-limits.tail_chars :]
        else:
            head = clean_output(head, redact)[: limits.head_chars]
            tail = clean_output(tail, redact)[-limits.tail_chars :]
        head, tail = trim_partial(head, tail, redact)
        left = max(self.total - len(head) - len(tail), 0)
        return f"{head}\n[... {left:,} characters of output left out ...]\n{tail}", True

    def result_text(self, redact: list[str]) -> str | None:
        """The last expression's text/plain, capped and scrubbed."""
        if self.result is None:
            return None
        text, _ = trim_partial(clean_output(self.result, redact), "", redact)  # a key cut at the cap
        return text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + "\u2026 [cut]"

    def error_info(self, redact: list[str]) -> dict[str, str] | None:
        """The exception: its name, value and traceback (no ANSI, capped from the end)."""
        if self.error is None:
            return None
        _, trace = trim_partial("", clean_output(self.error["traceback"], redact), redact)
        if len(trace) > TRACEBACK_CHARS:
            trace = "[\u2026]" + trace[-TRACEBACK_CHARS:]
        return {
            "ename": clean_output(self.error["ename"], redact),
            "evalue": clean_output(self.error["evalue"], redact)[:1_000],
            "traceback": trace,
        }
