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
        "token cap reached: 9,000 tokens used, the next call may use up to 1,524 (limit 10,000)"
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
