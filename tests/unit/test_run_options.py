"""RunOptions from library code: a bad value is one clear ValueError before anything runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mira_jupyter.engine.engine import RunOptions


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reasoning": "bogus"}, "unknown reasoning effort 'bogus'"),
        ({"reasoning": 3}, "reasoning effort must be a string"),
        ({"mode": "fast"}, "mode must be auto, simple or planned, got 'fast'"),
        ({"budget_usd": "abc"}, "budget_usd must be an amount in USD, got 'abc'"),
        ({"budget_usd": float("nan")}, "budget_usd must be a finite amount"),
        ({"budget_usd": -1}, "budget_usd must be positive"),
        ({"budget_usd": True}, "budget_usd must be an amount in USD, got True"),
        ({"budget_usd": [1]}, "budget_usd must be an amount in USD"),
    ],
)
def test_a_bad_option_is_one_clear_value_error(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RunOptions(**options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_good_options_are_kept_and_budgets_become_decimal() -> None:
    assert RunOptions(reasoning="deep").reasoning == "deep"  # normalised when sent, kept as typed
    assert RunOptions(budget_usd=0.01).budget_usd == Decimal("0.01")
    assert RunOptions(budget_usd="$0.5").budget_usd == Decimal("0.5")
    assert RunOptions(budget_usd=Decimal("2")).budget_usd == Decimal("2")
    assert RunOptions(mode="planned", plan_only=True).plan_only


def test_library_run_refuses_a_bad_effort_before_any_operation(tmp_path, monkeypatch) -> None:
    import mira_jupyter

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mira_jupyter, "_session", None)
    with pytest.raises(ValueError, match="unknown reasoning effort 'bogus'"):
        mira_jupyter.run("hello", reasoning="bogus")
    assert mira_jupyter._session is None  # nothing started, nothing logged
    assert not (tmp_path / ".mira").exists()

