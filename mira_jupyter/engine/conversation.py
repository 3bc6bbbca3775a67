"""The conversation across cells: what earlier operations of the kernel asked and answered.

Each finished operation leaves a `Turn`: its request, its final answer, the files it changed
and how it ended (a failed or cancelled turn is carried as such). The orchestrator of the
next operation sees the turns as user/assistant messages, never their tool transcripts.
Newest turns are kept first within a token budget; older turns are dropped whole, oldest
first, and the count of dropped turns is reported to the views. The newest turn alone is never
dropped for its size: its answer is cut to fit, with a marker, so a follow-up knows what "it" is.

Turns are rendered once and never change afterwards, so the prefix of the next request
(system prompt, tools, earlier turns) is byte-identical to the previous cell's: provider
prefix caches can reuse it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ..core.ids import new_id
from ..core.unicode import valid_unicode

_STATUS_NOTES = {
    "failed": "This turn failed",
    "cancelled": "This turn was cancelled by the user before it finished",
    "budget_exceeded": "This turn stopped at its budget",
    "interrupted": "This turn was interrupted",
    "planned": "This turn made a plan and stopped (plan only); the plan has not been run",
}


@dataclass(frozen=True)
class Turn:
    """One earlier operation as the conversation carries it."""

    operation_id: str
    request: str
    status: str
    answer: str
    files_changed: tuple[str, ...] = ()
    error: str | None = None
    plan: tuple[str, ...] = ()

    def assistant_text(self) -> str:
        """What the assistant's side of the turn says: the answer, how it ended, the files."""
        parts = []
        note = _STATUS_NOTES.get(self.status)
        if note:
            parts.append(f"[{note}{': ' + self.error if self.error else ''}.]")
        if self.status == "planned" and self.plan:
            parts.append("Plan:\n" + "\n".join(f"{i}. {t}" for i, t in enumerate(self.plan, 1)))
        if self.answer.strip():
            parts.append(self.answer.strip())
        elif not parts:
            parts.append("(no answer)")
        if self.files_changed:
            parts.append("[Files changed: " + ", ".join(self.files_changed) + "]")
        return "\n\n".join(parts)

    def messages(self) -> list[dict[str, Any]]:
        """The turn as a user message and an assistant message."""
        return [
            {"role": "user", "content": self.request},
            {"role": "assistant", "content": self.assistant_text()},
        ]

    def tokens(self) -> int:
        """Prompt tokens the turn costs when carried."""
        from ..llm.tokens import count_message_tokens

        return count_message_tokens(self.messages()) - 3  # no reply priming per turn

    def cut_to(self, max_tokens: int) -> Turn | None:
        """The turn with its answer (then its request) cut, with a marker, to fit
        `max_tokens`; None if not even a few words of it fit. Deterministic, so the cut
        turn is the same prefix in every request that carries it."""
        from dataclasses import replace

        def cut(text: str, keep: int, what: str) -> str:
            left = len(text) - keep
            return f"{text[:keep]}\n[… {left:,} more characters of this {what} left out to fit Mira.history_tokens]"

        turn: Turn = self
        for field_name, what in (("answer", "answer"), ("request", "request")):
            text = getattr(self, field_name)
            keep = len(text)
            for _ in range(24):  # shrink by the overshoot, then by a tenth, until it fits
                if turn.tokens() <= max_tokens:
                    return turn
                keep = int(keep * min(0.9, max_tokens / max(turn.tokens(), 1)))
                if keep < 40:
                    break
                turn = replace(turn, **{field_name: cut(text, keep, what)})
            if turn.tokens() <= max_tokens:
                return turn
            turn = replace(turn, **{field_name: cut(text, 0, what)})
        return turn if turn.tokens() <= max_tokens else None


@dataclass
class HistoryWindow:
    """The turns the next operation carries, and how many were left out."""

    conversation_id: str
    parent_operation_id: str | None
    turns: list[Turn] = field(default_factory=list)
    dropped: int = 0
    tokens: int = 0

    def messages(self) -> list[dict[str, Any]]:
        """The carried turns as messages, oldest first."""
        return [message for turn in self.turns for message in turn.messages()]


class Conversation:
    """The turns of one conversation, oldest first."""

    def __init__(self, conversation_id: str | None = None) -> None:
        self.id = conversation_id or new_id("conv")
        self.turns: list[Turn] = []
        self._tokens: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, turn: Turn) -> None:
        """Add a turn; a resumed plan-only operation replaces its own earlier turn in place."""
        with self._lock:
            self._tokens.pop(turn.operation_id, None)
            for i, old in enumerate(self.turns):
                if old.operation_id == turn.operation_id:
                    self.turns[i] = turn
                    return
            self.turns.append(turn)

    def last_operation_id(self, exclude: str | None = None) -> str | None:
        """The newest operation of the conversation (other than `exclude`)."""
        with self._lock:
            ids = [t.operation_id for t in self.turns if t.operation_id != exclude]
        return ids[-1] if ids else None

    def window(self, max_tokens: int, exclude: str | None = None) -> HistoryWindow:
        """Newest turns first, as many as fit in `max_tokens`; the rest dropped whole."""
        with self._lock:
            turns = [t for t in self.turns if t.operation_id != exclude]
        kept: list[Turn] = []
        used = 0
        for turn in reversed(turns):
            cost = self._tokens.get(turn.operation_id)
            if cost is None:
                cost = self._tokens[turn.operation_id] = turn.tokens()
            if used + cost > max_tokens:
                if not kept:  # the newest turn alone is too long: carry it cut, never nothing
                    shorter = turn.cut_to(max_tokens)
                    if shorter is not None:
                        kept.append(shorter)
                        used += shorter.tokens()
                break  # an older turn never jumps over a newer one that did not fit
            kept.append(turn)
            used += cost
        kept.reverse()
        return HistoryWindow(
            conversation_id=self.id,
            parent_operation_id=turns[-1].operation_id if turns else None,
            turns=kept,
            dropped=len(turns) - len(kept),
            tokens=used,
        )


def turn_of(operation: Any) -> Turn:
    """The turn an engine `Operation` leaves in its conversation: valid Unicode throughout,
    so a stored turn can never break the requests of the cells after it."""
    return Turn(
        operation_id=operation.id,
        request=valid_unicode(operation.request),
        status=operation.status,
        answer=valid_unicode(operation.text or ""),
        files_changed=tuple(valid_unicode(list(operation.files_changed))),
        error=valid_unicode(operation.error),
        plan=tuple(valid_unicode(list(operation.plan))),
    )
