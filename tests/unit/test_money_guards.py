"""Money guards: a hostile price file, NaN and infinity, amounts below the log's precision."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mira_jupyter.core.money import stored_usd, usd
from mira_jupyter.engine.budget import OperationBudget, SessionSpend
from mira_jupyter.llm.pricing import load_prices

D = Decimal


@pytest.mark.parametrize("shape", ["list", "object", "history", "price"])
def test_a_deeply_nested_price_file_is_one_clear_error_naming_it(tmp_path, shape):
    depth = 100_000
    if shape == "list":
        text = "[" * depth + "]" * depth
    elif shape == "object":
        text = '{"a":' * depth + "1" + "}" * depth
    elif shape == "history":
        text = '{"models": {"gpt-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6, "history": ' + "[" * depth + "]" * depth + "}}}"
    else:
        text = '{"models": {"gpt-5": {"input_cost_per_token": ' + '{"a":' * depth + "1" + "}" * depth + ', "output_cost_per_token": 1e-6}}}'
    deep = tmp_path / "deep.json"
    deep.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_prices(deep)
    message = str(caught.value)
    assert str(deep) in message and "nested too deeply" in message and "\n" not in message
    # nothing is lost: the shipped table and a good user file still load as before
    assert load_prices().lookup("scripted:gpt-5") is not None
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"models": {"gpt-5": {"input_cost_per_token": 2e-6, "output_cost_per_token": 3e-6}}}))
    assert load_prices(good).lookup("scripted:gpt-5").input == D("2e-6")


def test_a_moderately_nested_price_entry_names_the_file(tmp_path):
    # nested below the JSON parser's limit: the entry check must not recurse into a crash
    depth = 900
    text = '{"models": {"gpt-5": {"input_cost_per_token": ' + "[" * depth + "]" * depth + ', "output_cost_per_token": 1e-6}}}'
    deep = tmp_path / "deep.json"
    deep.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_prices(deep)
    assert str(deep) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), D("NaN"), D("sNaN"), D("Infinity"), "nan"])
def test_nan_and_infinity_never_read_as_dollars(value):
    text = usd(value)
    assert "$" not in text and text.startswith("unknown amount (")
    assert "NaN" in text or "infinite" in text


def test_junk_reads_as_unknown_not_as_dollars():
    assert usd("twelve") == "unknown amount (twelve)"
    assert usd(D("0.5")) == "$0.5000"


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        (D("1e-12"), D("1e-9")),
        (D("5e-13"), D("1e-9")),
        (D("1.0000000001"), D("1.000000001")),
        (D("0.0123"), D("0.0123")),
        (D(0), D(0)),
        (None, None),
    ],
)
def test_stored_costs_are_rounded_up_never_to_zero(amount, stored):
    assert stored_usd(amount) == stored


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity")])
def test_stored_costs_refuse_nan_and_infinity(bad):
    with pytest.raises(ValueError, match="cannot be stored"):
        stored_usd(bad)


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity")])
def test_a_nan_charge_never_reaches_the_budget(bad):
    session = SessionSpend(D("1"))
    budget = OperationBudget(D("1"), session)
    reservation = budget.reserve(D("0.1"), D(0), 100, 1, lambda *a: "no room")
    budget.settle(reservation, bad)
    assert session.spent == D("0.1") and budget.spent_usd == D("0.1"), "charged the reservation"
    assert session.spent.is_finite()


@pytest.mark.parametrize(
    "off_peak",
    [
        '{"start_utc": "00:00", "end_utc": "23:59:59", "input_cost_per_token": "garbage", "output_cost_per_token": 1e-6}',
        '{"start_utc": "00:00", "end_utc": "23:59:59", "input_cost_per_token": 1e-6, "output_cost_per_token": 5}',
        '{"start_utc": "noon", "end_utc": "23:00", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}',
        '"all day"',
        '{"a":' * 900 + "1" + "}" * 900,
    ],
    ids=["garbage", "per-million", "bad-clock", "not-an-object", "900-deep"],
)
def test_an_off_peak_on_the_entry_itself_is_checked_at_load(tmp_path, off_peak):
    # _price_at bills the entry's own off_peak as well as those inside history
    bad = tmp_path / "prices.json"
    bad.write_text(
        '{"models": {"gpt-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6, "off_peak": '
        + off_peak
        + "}}}"
    )
    with pytest.raises(ValueError) as caught:
        load_prices(bad)
    message = str(caught.value)
    assert str(bad) in message and "off_peak" in message and "\n" not in message
