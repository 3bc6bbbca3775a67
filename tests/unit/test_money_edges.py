"""Money at the edges: absurd usage objects, absurd prices, tiny and huge amounts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mira_jupyter.core.events import Cost
from mira_jupyter.core.money import cost_text, usd
from mira_jupyter.llm.pricing import load_prices
from mira_jupyter.llm.usage import normalize_usage, provider_cost, untrusted_reason

D = Decimal


@pytest.mark.parametrize(
    "raw",
    [
        {"input_tokens": 1e30, "output_tokens": 5},  # the Responses API shape
        {"input_tokens": 10, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 10**20}},
        {"prompt_tokens": 10, "completion_tokens": 5, "prompt_cache_hit_tokens": 10**12},  # DeepSeek
        {"prompt_tokens": 100_000_001, "completion_tokens": 5},
        {"prompt_tokens": float("nan"), "completion_tokens": 5},
        {"prompt_tokens": float("inf"), "completion_tokens": 5},
        {"prompt_tokens": True, "completion_tokens": 5},
        {"prompt_tokens": [1], "completion_tokens": 5},
    ],
)
def test_impossible_counts_of_any_provider_shape_are_not_trusted_and_say_why(raw):
    assert normalize_usage(raw) is None
    assert untrusted_reason(raw)


def test_the_largest_plausible_count_is_still_trusted():
    usage = normalize_usage({"prompt_tokens": 100_000_000, "completion_tokens": 5})
    assert usage is not None and usage.input_tokens == 100_000_000
    assert untrusted_reason({"prompt_tokens": 100_000_000, "completion_tokens": 5}) is None


@pytest.mark.parametrize("cost", [1e30, 1_000_000.01, -1, "NaN", "lots", float("inf")])
def test_a_provider_cost_no_call_can_have_is_dropped(cost):
    raw = {"prompt_tokens": 10, "completion_tokens": 5, "cost": cost}
    assert provider_cost(raw) is None
    assert untrusted_reason(raw).startswith("cost=")
    assert normalize_usage(raw).provider_cost_usd is None


def test_a_per_million_price_in_a_per_token_field_is_refused_in_one_line(tmp_path):
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"my-model": {"input_cost_per_token": 1.25, "output_cost_per_token": 10}}))
    with pytest.raises(ValueError, match=r"'my-model'.*per token cannot be right.*1\.25e-06") as info:
        load_prices(typo)
    assert "\n" not in str(info.value)
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps({"my-model": {"input_cost_per_token": 0.01, "output_cost_per_token": 6e-4}}))
    assert load_prices(fine).lookup("x:my-model").input == D("0.01")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("1e-12", "$0.000000000001"),
        ("0.00015", "$0.00015"),
        ("0.000049999", "$0.00005"),
        ("0.0000007", "$0.0000007"),
        ("0.0005", "$0.0005"),
        ("0.02125", "$0.0213"),
        ("0.5", "$0.5000"),
        ("1234.5", "$1,234.5000"),
        ("1e6", "$1,000,000.0000"),
        ("1e30", "$1,000,000,000,000,000,000,000,000,000,000.0000"),
        ("-0.00012", "-$0.00012"),
        ("0", "$0.0000"),
    ],
)
def test_amounts_are_shown_honestly_at_any_size(amount, shown):
    assert usd(D(amount)) == shown
    assert usd(float(amount)) == shown


def test_every_amount_matches_the_notebook_sanitizer():
    import re

    pattern = re.compile(r"(?:\$|&#36;)[\d,]*\.\d+")
    for amount in ("1e-12", "0.00015", "3", "1e30", "-2.5"):
        assert pattern.search(usd(D(amount)))


def test_a_tiny_bounded_cost_never_reads_as_zero():
    cost = Cost(input_usd=D("2e-9"), upper_usd=D("4e-7"))
    assert cost_text(cost) == "$0.000000002 (at most $0.0000004)"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (5e-324, "$5.0e-324"),
        (D("1e-5000"), "$1.0e-5000"),
        (D("-1.26e-5000"), "-$1.3e-5000"),
        (D("1e-999999990"), "$1.0e-999999990"),
        (D("9.96e-16"), "$1.0e-15"),
    ],
)
def test_a_denormal_amount_is_short_and_never_zero(amount, shown):
    # written out in full these are hundreds or thousands of zeros
    assert usd(amount) == shown
