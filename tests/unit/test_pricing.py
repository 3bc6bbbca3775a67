"""Golden cost tests: exact Decimal arithmetic, no token billed twice, overrides."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mira_jupyter.core.events import Usage
from mira_jupyter.llm.pricing import cost_of, estimate_cost, is_priced, load_prices
from mira_jupyter.llm.usage import estimate_usage, normalize_usage

D = Decimal


@pytest.fixture(autouse=True)
def _no_user_prices(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


def test_shipped_table_is_versioned_and_complete():
    table = load_prices()
    assert table.version and table.source and table.fetched
    for model in (
        "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "gpt-4.1", "gpt-4.1-mini",
        "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "deepseek-chat", "deepseek-reasoner",
    ):  # fmt: skip
        assert table.lookup(f"x:{model}") is not None, model


def test_gpt5_cached_tokens_never_billed_twice():
    usage = Usage(input_tokens=10_000, cached_input_tokens=8_000, output_tokens=2_000)
    cost = cost_of(usage, "openai:gpt-5")
    assert cost.input_usd == D("2000") * D("1.25e-6") == D("0.0025")
    assert cost.cached_input_usd == D("8000") * D("1.25e-7") == D("0.001")
    assert cost.output_usd == D("0.02")
    assert cost.total_usd == D("0.0235")
    assert cost.priced and cost.price_version == load_prices().version


def test_reasoning_tokens_billed_once_at_output_rate():
    with_reasoning = Usage(input_tokens=100, output_tokens=1_000, reasoning_tokens=800)
    without = Usage(input_tokens=100, output_tokens=1_000)
    a, b = cost_of(with_reasoning, "openai:gpt-5-mini"), cost_of(without, "openai:gpt-5-mini")
    assert a.output_usd == b.output_usd == D("1000") * D("2e-6")


def test_deepseek_hit_miss_golden():
    usage = normalize_usage(
        {
            "prompt_tokens": 10_000,
            "completion_tokens": 1_000,
            "prompt_cache_hit_tokens": 9_000,
            "prompt_cache_miss_tokens": 1_000,
        }
    )
    assert usage is not None
    cost = cost_of(usage, "deepseek:deepseek-chat")
    assert cost.input_usd == D("0.00028")  # 1000 misses at 2.8e-7
    assert cost.cached_input_usd == D("0.000252")  # 9000 hits at 2.8e-8
    assert cost.output_usd == D("0.00042")
    assert cost.total_usd == D("0.000952")
    # the same call billed as if nothing were cached would cost much more
    full = cost_of(Usage(input_tokens=10_000, output_tokens=1_000), "deepseek:deepseek-chat")
    assert full.total_usd == D("0.00322")


def test_cached_more_than_input_never_goes_negative():
    cost = cost_of(Usage(input_tokens=10, cached_input_tokens=50), "openai:gpt-5")
    assert cost.input_usd == 0
    assert cost.cached_input_usd == D("10") * D("1.25e-7")


def test_lookup_falls_back_to_bare_model_name():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    scripted = cost_of(usage, "scripted:gpt-5")
    assert scripted.priced and scripted.total_usd == D("11.25")
    assert cost_of(usage, "openrouter:openai/gpt-5").total_usd == D("11.25")
    assert (
        cost_of(usage, "openai:gpt-4o-2024-08-06").total_usd
        == cost_of(usage, "openai:gpt-4o").total_usd
    )


def test_unknown_model_is_unpriced_with_zero_components():
    cost = cost_of(Usage(input_tokens=500, output_tokens=500), "ollama:llama3.2")
    assert cost.priced is False
    assert cost.input_usd == cost.cached_input_usd == cost.output_usd == 0
    assert not is_priced("ollama:llama3.2")


def test_missing_stream_usage_is_estimated_and_still_priced():
    usage = estimate_usage([{"role": "user", "content": "hello " * 50}], "world " * 20)
    assert usage.source == "estimated"
    cost = cost_of(usage, "openai:gpt-5")
    assert cost.priced and cost.total_usd > 0
    expected = usage.input_tokens * D("1.25e-6") + usage.output_tokens * D("1e-5")
    assert cost.total_usd == expected


def test_estimate_cost_for_budget_checks():
    cost = estimate_cost("openai:gpt-5", 1_000, 500)
    assert cost.total_usd == D("0.00125") + D("0.005")
    cached = estimate_cost("openai:gpt-5", 1_000, 0, cached_input_tokens=1_000)
    assert cached.total_usd == D("0.000125")


def test_override_file_merges_and_records_version(tmp_path, monkeypatch):
    override = tmp_path / "prices.json"
    override.write_text(
        json.dumps(
            {
                "version": "team-2026-01",
                "models": {
                    "gpt-5": {"output_cost_per_token": 2e-5},
                    "my-local-model": {"input_cost_per_token": 1e-7, "output_cost_per_token": 2e-7},
                },
            }
        )
    )
    table = load_prices(override)
    digest = __import__("hashlib").sha256(override.read_bytes()).hexdigest()[:12]
    assert table.version == f"{load_prices().version}+user:team-2026-01:sha256:{digest}"
    cost = cost_of(Usage(input_tokens=1_000, output_tokens=1_000), "openai:gpt-5", prices=table)
    assert cost.input_usd == D("0.00125")  # shipped rate kept
    assert cost.output_usd == D("0.02")  # overridden rate
    assert cost.price_version == table.version
    local = cost_of(Usage(input_tokens=10, output_tokens=10), "vllm:my-local-model", prices=table)
    assert local.priced and local.total_usd == D("0.000003")

    monkeypatch.setenv("MIRA_PRICES_FILE", str(override))
    assert cost_of(Usage(output_tokens=1), "openai:gpt-5").output_usd == D("0.00002")


def test_litellm_style_override_without_models_key(tmp_path):
    override = tmp_path / "litellm.json"
    override.write_text(
        '{"deepseek-chat": {"input_cost_per_token": 5.6e-7, "output_cost_per_token": 1.68e-6}}'
    )
    table = load_prices(override)
    cost = cost_of(
        Usage(input_tokens=100, cached_input_tokens=50, output_tokens=10),
        "deepseek:deepseek-chat",
        prices=table,
    )
    assert cost.input_usd == D("50") * D("5.6e-7")
    assert cost.cached_input_usd == D("50") * D("2.8e-8")  # shipped cache rate survives
    assert "+user:unversioned:sha256:" in table.version


def test_bad_override_files_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_prices(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_prices(bad)
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text('{"models": {"new-model": {"input_cost_per_token": 1e-6}}}')
    with pytest.raises(ValueError, match="new-model"):
        load_prices(incomplete)


def test_decimal_exactness_no_float_drift():
    # 3 tokens at 1e-7 is 3e-7 exactly; binary floats would give 3.0000000000000004e-07
    cost = cost_of(Usage(input_tokens=3, cached_input_tokens=3), "openai:gpt-4.1-mini")
    assert cost.cached_input_usd == D("3e-7")
