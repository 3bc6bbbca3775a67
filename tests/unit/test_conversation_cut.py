"""The newest turn is carried even when it alone is over Mira.history_tokens (r11c M2): its
answer is cut to fit with a marker, so "now summarise it" knows what "it" is."""

from __future__ import annotations

from mira_jupyter.engine.conversation import Conversation, Turn

ESSAY = " ".join(f"paragraph {n} of the essay on sampling bias." for n in range(1_500))


def test_a_newest_turn_over_the_budget_is_carried_cut_with_a_marker():
    conversation = Conversation()
    conversation.record(Turn("op_1", "write an essay on sampling bias", "completed", ESSAY, ("essay.md",)))
    window = conversation.window(600)
    (turn,) = window.turns
    assert window.dropped == 0 and window.tokens <= 600
    assert turn.request == "write an essay on sampling bias"
    assert turn.answer.startswith("paragraph 0 of the essay") and "more characters of this answer left out" in turn.answer
    assert "[Files changed: essay.md]" in turn.assistant_text()
    assert conversation.window(600).messages() == window.messages()  # the same prefix every time


def test_once_a_newer_turn_fits_the_long_one_is_dropped_whole():
    conversation = Conversation()
    conversation.record(Turn("op_1", "write an essay", "completed", ESSAY))
    conversation.record(Turn("op_2", "now summarise it", "completed", "It says samples are biased."))
    window = conversation.window(600)
    assert [t.operation_id for t in window.turns] == ["op_2"] and window.dropped == 1


def test_a_request_too_long_for_the_budget_is_cut_too_and_a_tiny_budget_carries_nothing():
    conversation = Conversation()
    conversation.record(Turn("op_1", ESSAY, "completed", ESSAY))
    (turn,) = conversation.window(400).turns
    assert "more characters of this request left out" in turn.request and turn.tokens() <= 400
    assert conversation.window(5).turns == []
