"""What an operation's answer turned out to be: its text, and whether it is whole.

The answer is what streamed on the "answer" channel. It is *truncated* when the answering
call stopped at its output cap (``finish_reason: length``) or was cut by the provider's
content filter (``content_filter``), and *partial* when the
operation ended (failed, cancelled) before the answer was finished: the text the user
saw is kept either way, and marked, never silently dropped or passed off as complete.
"""

from __future__ import annotations

from ..core.events import ANSWER_CUTS, Event, LLMCallFinished, ModeChanged, TextDelta
from ..llm.types import BadResponseError, ChatResponse

# the calls whose text is the operation's answer
ANSWER_PURPOSES = frozenset({"simple", "compose"})


class AnswerCollector:
    """A bus subscriber that assembles one operation's answer from its events."""

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self._parts: list[str] = []
        self._earlier: list[str] = []  # what streamed before a fallback to another path
        self.cut_by = ""  # the finish reason that cut the answer short, if one did

    @property
    def truncated(self) -> bool:
        """Whether the answering call stopped before its end (output cap, content filter)."""
        return bool(self.cut_by)

    def __call__(self, event: Event) -> None:
        """Fold one event (events of other operations are ignored)."""
        if event.operation_id != self.operation_id:
            return
        if isinstance(event, TextDelta) and event.channel == "answer":
            self._parts.append(event.text)
        elif isinstance(event, ModeChanged):
            # the broken simple answer is not the operation's answer, unless nothing replaces it
            self._earlier, self._parts = self._parts, []
            self.cut_by = ""
        elif isinstance(event, LLMCallFinished) and event.purpose in ANSWER_PURPOSES:
            cut = event.status == "ok" and event.finish_reason in ANSWER_CUTS
            self.cut_by = (event.finish_reason or "") if cut else ""

    def result(self, status: str) -> tuple[str, bool]:
        """(text, partial) for an operation that ended with `status`."""
        text = "".join(self._parts)
        if status == "completed":
            return text, False
        if not text.strip():
            text = "".join(self._earlier)
        return text, bool(text.strip())


def answer_text(response: ChatResponse, model_id: str) -> str:
    """The text of an answering call; an empty answer is an error, not a silent success."""
    if response.text.strip():
        return response.text
    if response.finish_reason == "length":
        why = "its output cap was used up before any answer text (finish_reason length)"
    elif response.finish_reason == "tool_calls" or response.tool_calls:
        # a server that ignores tool_choice: a call offered no tools replied with tool calls
        why = "it replied with tool calls where no tools are offered (finish_reason tool_calls)"
    else:
        why = f"finish_reason {response.finish_reason or 'missing'}"
    raise BadResponseError(f"{model_id} returned an empty answer ({why})", usage=response.usage)
