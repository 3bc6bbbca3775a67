"""Usage normalisation: OpenAI and DeepSeek shapes, missing details, estimates."""

from __future__ import annotations

from mira_jupyter.llm.usage import estimate_usage, inconsistency, normalize_usage, resolve_usage


def test_openai_shape_with_cache_and_reasoning():
    usage = normalize_usage(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 900,
            "total_tokens": 2900,
            "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 640, "audio_tokens": 0},
        }
    )
    assert usage is not None
    assert (usage.input_tokens, usage.cached_input_tokens) == (2000, 1536)
    assert (usage.output_tokens, usage.reasoning_tokens) == (900, 640)
    assert usage.source == "reported"


def test_missing_details_are_zero():
    usage = normalize_usage({"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14})
    assert usage is not None
    assert usage.cached_input_tokens == 0 and usage.reasoning_tokens == 0
    nulls = normalize_usage(
        {
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        }
    )
    assert nulls is not None and nulls.cached_input_tokens == 0 and nulls.reasoning_tokens == 0


def test_no_usage_is_none():
    assert normalize_usage(None) is None
    assert normalize_usage({}) is None


def test_deepseek_hit_tokens_win_over_details():
    usage = normalize_usage(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 50,
            "prompt_cache_hit_tokens": 768,
            "prompt_cache_miss_tokens": 232,
            # a stale or differently-computed detail must not override the billed split
            "prompt_tokens_details": {"cached_tokens": 700},
        }
    )
    assert usage is not None
    assert usage.input_tokens == 1000
    assert usage.cached_input_tokens == 768


def test_deepseek_reasoner_reasoning_tokens():
    usage = normalize_usage(
        {
            "prompt_tokens": 100,
            "completion_tokens": 300,
            "prompt_cache_hit_tokens": 0,
            "prompt_cache_miss_tokens": 100,
            "completion_tokens_details": {"reasoning_tokens": 250},
        }
    )
    assert usage is not None and usage.reasoning_tokens == 250 and usage.cached_input_tokens == 0


def test_deepseek_inconsistent_split_is_read_the_dear_way_and_marked():
    raw = {
        "prompt_tokens": 100,
        "completion_tokens": 1,
        "prompt_cache_hit_tokens": 80,
        "prompt_cache_miss_tokens": 40,
    }
    usage = normalize_usage(raw)
    assert usage is not None
    assert usage.input_tokens == 120 and usage.cached_input_tokens == 80
    assert usage.source == "estimated"
    assert "80 + prompt_cache_miss_tokens 40 != prompt_tokens 100" in inconsistency(raw)


def test_subsets_above_their_totals_are_read_as_excluded_from_them():
    # the dearer of the two readings: the totals left the subsets out (never: the
    # subsets are wrong, which would bill 50 cached prompt tokens as 10)
    usage = normalize_usage(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 50},
            "completion_tokens_details": {"reasoning_tokens": 9},
        }
    )
    assert usage is not None
    assert (usage.input_tokens, usage.cached_input_tokens) == (60, 50)
    assert (usage.output_tokens, usage.reasoning_tokens) == (14, 9)
    assert usage.source == "estimated"


def test_consistent_usage_is_reported():
    raw = {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 4}}
    assert normalize_usage(raw).source == "reported" and inconsistency(raw) is None


def test_junk_values_are_not_trusted_and_fall_back_to_an_estimate():
    for junk in (
        {"prompt_tokens": "lots", "completion_tokens": -3, "x": True},
        {"prompt_tokens": "120", "completion_tokens": "7"},  # numbers sent as strings
        {"prompt_tokens": 12.5, "completion_tokens": 3},
        {"prompt_tokens": 10, "completion_tokens": None},
        {"prompt_tokens": True, "completion_tokens": 1},
    ):
        assert normalize_usage(junk) is None, junk
        usage = resolve_usage(junk, lambda: estimate_usage([{"role": "user", "content": "hello"}], "hi"))
        assert usage.source == "estimated" and usage.input_tokens > 0 and usage.output_tokens > 0
        assert usage.raw == junk, "the raw object is kept for the audit"


def test_estimate_is_marked_and_counts_tokens():
    messages = [{"role": "user", "content": "Count the rows in data.csv please."}]
    usage = estimate_usage(messages, "There are 42 rows.", ['{"path": "data.csv"}'])
    assert usage.source == "estimated"
    assert usage.input_tokens > 8  # content plus chat framing
    assert usage.output_tokens >= 6 + 5
    assert usage.cached_input_tokens == 0 and usage.reasoning_tokens == 0
