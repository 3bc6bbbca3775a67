"""The token cap's reservations (engine/token_cap.py): fit, lower max_tokens, wait, refuse."""

from __future__ import annotations

import threading

import pytest

from mira_jupyter.core.cancel import CancelToken, OperationCancelled
from mira_jupyter.engine.token_cap import CapReached, TokenCap


class Counted:
    """A ledger stand-in: tokens of settled calls."""

    def __init__(self) -> None:
        self.tokens = 0

    def __call__(self) -> int:
        return self.tokens


def test_a_call_gets_fewer_output_tokens_when_that_is_what_fits():
    used = Counted()
    cap = TokenCap(10_000, used)
    held = cap.reserve(4_000, 8_192, 1_024, CancelToken())
    assert (held.tokens, held.max_output_tokens) == (10_000, 6_000)
    assert cap.reserved == 10_000


def test_a_call_that_cannot_fit_with_nothing_in_flight_is_refused_with_the_numbers():
    used = Counted()
    used.tokens = 9_000
    cap = TokenCap(10_000, used)
    with pytest.raises(CapReached) as caught:
        cap.reserve(500, 8_192, 1_024, CancelToken())
    assert str(caught.value) == (
        "token cap reached: 9,000 tokens used, the next call may use up to 1,524 (limit 10,000; "
        "Mira.max_total_tokens raises it)"
    )
    assert cap.reserved == 0


def test_a_call_waits_for_the_one_in_flight_and_goes_once_it_settled():
    used = Counted()
    cap = TokenCap(10_000, used)
    first = cap.reserve(4_000, 4_000, 1_024, CancelToken())  # 8,000 held
    got: list[int] = []
    second = threading.Thread(target=lambda: got.append(cap.reserve(3_000, 4_000, 1_024, CancelToken()).tokens))
    second.start()
    second.join(0.6)
    assert second.is_alive() and got == []  # 2,000 left: it waits rather than failing
    used.tokens = 1_500  # the first call really spent 1,500
    cap.release(first)
    second.join(10)
    assert got == [7_000]
    assert cap.reserved == 7_000


def test_a_waiting_call_is_refused_when_the_settled_call_left_too_little():
    used = Counted()
    cap = TokenCap(10_000, used)
    first = cap.reserve(4_000, 4_000, 1_024, CancelToken())
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            cap.reserve(3_000, 4_000, 1_024, CancelToken())
        except CapReached as exc:
            errors.append(exc)

    second = threading.Thread(target=wait)
    second.start()
    used.tokens = 8_000
    cap.release(first)
    second.join(10)
    assert len(errors) == 1 and "8,000 tokens used" in str(errors[0])


def test_stop_ends_the_wait():
    used = Counted()
    cap = TokenCap(10_000, used)
    cap.reserve(9_000, 1_000, 1_000, CancelToken())
    cancel = CancelToken()
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            cap.reserve(3_000, 4_000, 1_024, cancel)
        except OperationCancelled as exc:
            errors.append(exc)

    second = threading.Thread(target=wait)
    second.start()
    cancel.cancel()
    second.join(10)
    assert not second.is_alive() and len(errors) == 1


def test_a_retry_reserves_another_attempt_or_is_refused_and_release_frees_every_attempt():
    used = Counted()
    cap = TokenCap(10_000, used)
    held = cap.reserve(2_000, 2_000, 1_024, CancelToken())
    cap.extend(held)  # 8,000 held for two attempts
    assert cap.reserved == 8_000 == held.tokens
    with pytest.raises(CapReached, match="a retry of the last call may use up to 4,000"):
        cap.extend(held)
    cap.release(held)
    cap.release(held)  # twice is once
    assert cap.reserved == 0


def _shape(*contents: str, model: str = "deepseek:deepseek-chat", tools=None):
    from mira_jupyter.engine.prompt_bound import prompt_shape

    return prompt_shape(model, [{"role": "user", "content": c} for c in contents], tools)


def test_a_prompt_no_provider_has_counted_is_reserved_at_its_bytes_plus_framing():
    # r14d F1: any margin over our own count is passed by some tokenizer; the bytes are not
    from mira_jupyter.engine.prompt_bound import FRAMING_TOKENS, ProviderCounts
    from mira_jupyter.llm.tokens import count_prompt_bytes

    text = "12345678901234567890 📈 数据 " * 50
    shape = _shape("system", text)
    messages = [{"role": "user", "content": c} for c in ("system", text)]
    assert ProviderCounts().bound(shape) == count_prompt_bytes(messages) - 4 + FRAMING_TOKENS
    assert ProviderCounts().bound(shape) > len(text.encode())


def test_what_the_provider_counted_bounds_every_prompt_beginning_with_it():
    from mira_jupyter.engine.prompt_bound import FRAMING_PER_MESSAGE, ProviderCounts

    counts = ProviderCounts()
    system, big = "You are an agent." * 20, "x = 1\n" * 2_000
    counts.learn(_shape(system, big), 3_000)  # the provider counted that prompt at 3,000
    assert counts.bound(_shape(system, big)) == 3_000
    more = _shape(system, big, "and this")
    assert counts.bound(more) == 3_000 + more.sizes[-1] + FRAMING_PER_MESSAGE
    # a prompt sharing only the system prompt: that report (it is more than the system
    # prompt's count) plus the bytes of the rest, unless the bytes alone are less
    other = _shape(system, "short")
    assert counts.bound(other) == min(other.byte_bound(), 3_000 + other.sizes[-1] + FRAMING_PER_MESSAGE)
    # per model, per tool list, and nothing shared: bytes
    assert counts.bound(_shape(system, big, model="openai:gpt-5")) == _shape(system, big).byte_bound()
    tools = [{"type": "function", "function": {"name": "read_file"}}]
    assert counts.bound(_shape(system, big, tools=tools)) == _shape(system, big, tools=tools).byte_bound()
    assert counts.bound(_shape("another system", big)) == _shape("another system", big).byte_bound()
    # a smaller report of a shorter prompt beginning the same way tightens the bound
    counts.learn(_shape(system), 200)
    assert counts.bound(other) == 200 + other.sizes[-1] + FRAMING_PER_MESSAGE
    counts.learn(_shape(system, big), 0)  # no count: nothing learned
    assert counts.bound(_shape(system, big)) == 3_000


def test_the_prefixes_remembered_are_bounded_oldest_first():
    from mira_jupyter.engine.prompt_bound import FRAMING_PER_MESSAGE, ProviderCounts

    counts = ProviderCounts(per_model=3)
    for i in range(3):
        counts.learn(_shape("s", f"turn {i}"), 100 + i)
    # ["s", "turn 0"] is forgotten; ["s"] (used by every later prompt) is not
    first = _shape("s", "turn 0")
    assert counts.bound(first) == 100 + first.sizes[-1] + FRAMING_PER_MESSAGE
    assert counts.bound(_shape("s", "turn 2")) == 102


def test_replayed_reasoning_that_no_tokenizer_can_count_is_reserved_at_its_bytes():
    from mira_jupyter.llm.tokens import count_message_tokens, count_opaque_bytes

    blob = "gAAAA" + "x" * 5_000
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": blob}
    call = {"type": "function_call", "call_id": "c1", "name": "read_file", "arguments": "{}"}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "provider_state": {"api": "responses", "items": [reasoning, call]}},
    ]
    assert count_message_tokens(messages) < 50  # the tokenizer does not see it
    assert 5_005 <= count_opaque_bytes(messages) < 5_100
    assert count_opaque_bytes([{"role": "user", "content": "x", "provider_state": "junk"}]) == 0
