"""The shipped table: snapshots priced on their own, effective periods, sources, reservations."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mira_jupyter.core.events import Cost, Usage
from mira_jupyter.engine.budget import BudgetExceeded, OperationBudget, SessionSpend
from mira_jupyter.llm.pricing import cost_of, load_prices
from mira_jupyter.llm.usage import normalize_usage
from mira_jupyter.ui.fmt import fmt_cost

D = Decimal
MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


@pytest.fixture(autouse=True)
def _no_user_prices(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


def per_million(model: str, at: datetime | None = None) -> tuple[Decimal, Decimal, Decimal]:
    price = load_prices().lookup(model, at)
    assert price is not None, model
    return price.input * 1_000_000, price.cached_input * 1_000_000, price.output * 1_000_000


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai:gpt-5-pro", ("15", "15", "120")),
        ("openai:gpt-5-codex", ("1.25", "0.125", "10")),
        ("openai:gpt-5-chat-latest", ("1.25", "0.125", "10")),
        ("openai:gpt-4.1-nano", ("0.10", "0.025", "0.40")),
        ("openai:o1", ("15", "7.5", "60")),
        ("openai:o3-mini", ("1.10", "0.55", "4.40")),
        ("openai:o3-pro", ("20", "20", "80")),
        ("openrouter:anthropic/claude-sonnet-4.5", ("3", "0.30", "15")),
        ("openrouter:google/gemini-2.5-pro", ("1.25", "0.125", "10")),
    ],
)
def test_the_models_the_audit_found_missing_are_priced(model, expected):
    assert per_million(model) == tuple(D(x) for x in expected)


def test_every_shipped_entry_names_its_source():
    for name, entry in load_prices().models.items():
        assert len(entry.get("source", "")) > 10, name


def test_a_dated_snapshot_gets_its_own_price_never_the_aliases():
    assert cost_of(MILLION, "openai:gpt-4o-2024-05-13").total_usd == D("20")  # $5 + $15
    assert cost_of(MILLION, "openai:gpt-4o").total_usd == D("12.5")
    unknown = cost_of(MILLION, "openai:gpt-4o-2099-01-01")
    assert not unknown.priced, "an unknown snapshot is unpriced, not billed as the alias"


def test_deepseek_2025_price_periods_and_the_night_discount():
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)  # noqa: E731
    chat = "deepseek:deepseek-chat"
    assert per_million(chat, at("2025-01-15T12:00:00")) == (D("0.14"), D("0.014"), D("0.28"))
    assert per_million(chat, at("2025-02-20T12:00:00")) == (D("0.27"), D("0.07"), D("1.10"))
    # from 2025-02-26 16:30 UTC the night (16:30-00:30 UTC) is half price
    assert per_million(chat, at("2025-03-01T12:00:00")) == (D("0.27"), D("0.07"), D("1.10"))
    assert per_million(chat, at("2025-03-01T17:00:00")) == (D("0.135"), D("0.035"), D("0.55"))
    assert per_million(chat, at("2025-03-02T00:15:00")) == (D("0.135"), D("0.035"), D("0.55"))
    assert per_million(chat, at("2025-09-10T17:00:00")) == (D("0.56"), D("0.07"), D("1.68"))
    assert per_million(chat, at("2025-10-01T12:00:00")) == (D("0.28"), D("0.028"), D("0.42"))
    assert per_million(chat) == (D("0.28"), D("0.028"), D("0.42"))
    reasoner = "deepseek:deepseek-reasoner"
    assert per_million(reasoner, at("2025-02-20T12:00:00")) == (D("0.55"), D("0.14"), D("2.19"))
    assert per_million(reasoner, at("2025-03-01T17:00:00")) == (D("0.135"), D("0.035"), D("0.55"))
    # a call is priced by the period containing its start
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    assert cost_of(usage, chat, at=at("2025-09-10T12:00:00")).total_usd == D("0.00224")


def test_a_user_file_may_carry_its_own_periods_and_bad_periods_are_one_line(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(
        json.dumps(
            {
                "my-model": {
                    "input_cost_per_token": 2e-6,
                    "output_cost_per_token": 4e-6,
                    "history": [{"until": "2026-01-01T00:00:00Z", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}],
                }
            }
        )
    )
    table = load_prices(good)
    old = datetime(2025, 6, 1, tzinfo=UTC)
    assert table.lookup("x:my-model", old).input == D("0.000001")
    assert table.lookup("x:my-model").input == D("0.000002")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6, "history": [{"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}]}}))
    with pytest.raises(ValueError, match="'m'.*needs an 'until'"):
        load_prices(bad)
    negative = tmp_path / "neg.json"
    negative.write_text(json.dumps({"m": {"input_cost_per_token": -1, "output_cost_per_token": 1}}))
    with pytest.raises(ValueError, match="non-negative"):
        load_prices(negative)


def test_openrouter_usage_cost_is_the_total_and_marked():
    usage = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 100, "cost": 0.02})
    cost = cost_of(usage, "openrouter:anthropic/claude-sonnet-4.5")
    assert cost.total_usd == D("0.02") and cost.source == "provider"
    # an OpenRouter model missing from our table is still priced by what OpenRouter charged
    other = cost_of(usage, "openrouter:some/unknown-model")
    assert other.priced and other.total_usd == D("0.02")


def test_costs_read_unpriced_and_at_most_never_zero():
    assert fmt_cost(Cost(priced=False)) == "unpriced"
    assert fmt_cost(Cost(input_usd=D("0.01"), priced=False)) == "$0.0100 + unpriced"
    assert fmt_cost(Cost(input_usd=D("0.0002"), upper_usd=D("0.042"))) == "$0.0002 (at most $0.0420)"
    total = Cost(input_usd=D("0.001"), upper_usd=D("0.01")) + Cost(input_usd=D("0.002"))
    assert total.upper_usd == D("0.012") and total.total_usd == D("0.003")


def test_reservations_hold_under_threads():
    session = SessionSpend(D("1.00"))
    sent: list[Decimal] = []
    lock = threading.Lock()

    def worker() -> None:
        budget = OperationBudget(None, session)
        for _ in range(50):
            try:
                reservation = budget.reserve(
                    D("0.01"), D("0.0001"), 400, 100, lambda *a: "over", wait_seconds=0.5
                )
            except BudgetExceeded:
                return
            # a greedy call uses its whole allowance
            charged = D("0.01") + reservation.max_output_tokens * D("0.0001")
            with lock:
                sent.append(charged)
            budget.settle(reservation, charged)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) <= D("1.00") and session.spent == sum(sent)
    assert session.reserved == 0
