"""What the token cap counts for a call not seen in full (r14e F1, F2): its reserved bound,
a part of which only the provider's own report replaces."""

from __future__ import annotations

from decimal import Decimal

from mira_jupyter.core.events import Usage
from mira_jupyter.engine.budget import Reservation
from mira_jupyter.engine.call_bound import InFlight, cap_tokens, reports_no_usage


def _call() -> InFlight:
    # tiktoken said 3,918 for a prompt bound at 13,900; each attempt was sent max_tokens 8,192
    return InFlight(None, Reservation(Decimal(0), 8_192), 3_918, None, None, token_bound=13_900, max_tokens=8_192)


def test_a_report_in_full_is_counted_as_reported():
    assert cap_tokens(_call(), Usage(input_tokens=13_803, output_tokens=5)) == 13_808


def test_an_estimated_attempt_counts_at_its_bound_not_at_tiktoken():
    cut = Usage(input_tokens=3_918, output_tokens=0, source="estimated", output_tokens_upper=8_192)
    assert cap_tokens(_call(), cut) == 13_900 + 8_192


def test_a_reported_input_replaces_the_prompt_bound_but_not_the_output_bound():
    cut = Usage(input_tokens=13_803, output_tokens=40, output_tokens_upper=8_192)
    assert cap_tokens(_call(), cut) == 13_803 + 8_192


def test_attempts_are_counted_one_by_one_and_one_never_sent_is_zero():
    cut = Usage(input_tokens=3_918, source="estimated", output_tokens_upper=8_192)
    ok = Usage(input_tokens=13_803, output_tokens=5)
    usage = cut + ok + Usage()
    usage = usage.model_copy(update={"attempts": [cut, ok, Usage()]})
    assert cap_tokens(_call(), usage) == 13_900 + 8_192 + 13_808


def test_no_report_is_told_apart_from_an_untrusted_one():
    assert reports_no_usage(Usage(input_tokens=10, source="estimated"), "ok")
    assert not reports_no_usage(Usage(input_tokens=10, source="estimated", raw={"prompt_tokens": "x"}), "ok")
    assert not reports_no_usage(Usage(input_tokens=10, source="estimated"), "cancelled")
