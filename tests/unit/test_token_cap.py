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


class _Model:
    def __init__(self, model_id: str) -> None:
        from mira_jupyter.llm.capabilities import capabilities_for

        self.model_id = model_id
        self.capabilities = capabilities_for(model_id)


def test_a_prompt_is_reserved_at_its_token_count_with_the_margin_of_its_tokenizer():
    # r14c M1: the cap reserved a prompt at its UTF-8 bytes (~4.5x the tokens of code)
    from mira_jupyter.engine.token_cap import PromptMargins

    margins = PromptMargins()
    assert margins.bound(_Model("openai:gpt-5"), 10_000) == 11_000  # counted with our own tokenizer
    assert margins.bound(_Model("openrouter:openai/gpt-4o-mini"), 10_000) == 11_000
    assert margins.bound(_Model("deepseek:deepseek-chat"), 10_000) == 13_500  # another tokenizer
    assert margins.bound(_Model("ollama:llama3.1"), 10_000, opaque_bytes=700) == 14_200


def test_a_provider_that_counted_more_than_the_bound_is_reserved_at_that_ratio_from_then_on():
    from mira_jupyter.engine.token_cap import PromptMargins

    margins = PromptMargins()
    deepseek, gpt = _Model("deepseek:deepseek-chat"), _Model("openai:gpt-5")
    margins.observe(deepseek, 13_000, 10_000)  # within its bound: nothing to learn
    assert margins.bound(deepseek, 1_000) == 1_350
    margins.observe(deepseek, 20_000, 10_000)  # 2x our count
    assert margins.bound(deepseek, 1_000) == 2_040  # the ratio shown, plus 2%
    margins.observe(deepseek, 15_000, 10_000)  # a smaller ratio later does not lower it
    assert margins.bound(deepseek, 1_000) == 2_040
    assert margins.bound(gpt, 1_000) == 1_100  # per model
    # replayed reasoning is counted apart: 9,000 of the 11,000 reported were its tokens
    margins.observe(gpt, 11_000, 1_000, opaque_bytes=9_000)
    assert margins.bound(gpt, 1_000) == 2_040


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
