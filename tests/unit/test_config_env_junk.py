"""Junk MIRA_* values are refused in one line where they are read (r14c L1, L2)."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config

from mira_jupyter.config import Mira


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MIRA_SIMPLE_THRESHOLD", "nan", "MIRA_SIMPLE_THRESHOLD must be a number between 0 and 1, got 'nan'"),
        ("MIRA_SIMPLE_THRESHOLD", "7", "MIRA_SIMPLE_THRESHOLD must be a number between 0 and 1, got '7'"),
        ("MIRA_SIMPLE_THRESHOLD", "high", "MIRA_SIMPLE_THRESHOLD must be a number between 0 and 1"),
        ("MIRA_TEAM_BUDGET_USD", "inf", "MIRA_TEAM_BUDGET_USD must be a positive amount in USD such as 50, got 'inf'"),
        ("MIRA_TEAM_BUDGET_USD", "nan", "MIRA_TEAM_BUDGET_USD must be a positive amount"),
        ("MIRA_TEAM_BUDGET_USD", "-1", "MIRA_TEAM_BUDGET_USD must be a positive amount"),
        ("MIRA_TEAM_BUDGET_USD", "0", "MIRA_TEAM_BUDGET_USD must be positive"),
        ("MIRA_COMMANDS", "[", "MIRA_COMMANDS is program names separated by commas, such as pytest,ruff; not '\\['"),
        ("MIRA_COMMANDS", "pytest,sh -c", "MIRA_COMMANDS is program names .* not 'sh -c'"),
        ("MIRA_REQUEST_TIMEOUT", "nan", "MIRA_REQUEST_TIMEOUT must be seconds between 1 and 86400, got 'nan'"),
        ("MIRA_REQUEST_TIMEOUT", "-5", "MIRA_REQUEST_TIMEOUT must be seconds between 1 and 86400"),
        # r14d F2: accepted until an operation ran
        ("MIRA_ORCHESTRATOR_MODEL", "openai:", "MIRA_ORCHESTRATOR_MODEL: model id 'openai:' must look like provider:model"),
        ("MIRA_EXECUTOR_MODEL", ":", "MIRA_EXECUTOR_MODEL: model id ':' must look like provider:model"),
        ("MIRA_EXECUTOR_MODEL", "deepseek-chat", "MIRA_EXECUTOR_MODEL: model id 'deepseek-chat' must look like"),
        ("MIRA_APPROVE_TIMEOUT", "-5", "MIRA_APPROVE_TIMEOUT must be between 10 and 86400"),
        # r14d F3: taken as auto without a word
        ("MIRA_VIEW", "wat", "MIRA_VIEW must be auto, widget or text, got 'wat'"),
        ("MIRA_VIEW", "widgets", "MIRA_VIEW must be auto, widget or text, got 'widgets'"),
        ("MIRA_INSERT_CODE", "maybe", "MIRA_INSERT_CODE must be true or false, got 'maybe'"),
    ],
)
def test_a_junk_environment_value_is_one_clear_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message) as caught:
        getattr(Mira(), variable.removeprefix("MIRA_").lower())
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MIRA_SIMPLE_THRESHOLD", "0.5", 0.5),
        ("MIRA_TEAM_BUDGET_USD", "$25", 25.0),
        ("MIRA_COMMANDS", "pytest, ruff", ["pytest", "ruff"]),
        ("MIRA_REQUEST_TIMEOUT", "30", 30.0),
    ],
)
def test_good_environment_values_still_read(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    assert getattr(Mira(), variable.removeprefix("MIRA_").lower()) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0, -1.0])
def test_a_request_timeout_set_is_checked(value):
    with pytest.raises(TraitError, match="Mira.request_timeout must be seconds between 1 and 86400"):
        Mira(request_timeout=value)


@pytest.mark.parametrize(
    ("variable", "junk", "setting", "refused", "accepted"),
    [
        ("MIRA_MAX_PARALLEL", "lots", "max_parallel", 0, 3),  # 0 is the Int trait's static default
        ("MIRA_REASONING_SIMPLE", "bogus", "reasoning_simple", "", "high"),  # '' is Unicode's
        ("MIRA_MAX_EXECUTOR_TURNS", "-2", "max_executor_turns", 0, 5),
    ],
)
def test_a_first_set_over_a_junk_environment_value_is_still_validated(
    monkeypatch, variable, junk, setting, refused, accepted
):
    # r14c L1: with the MIRA_* value unreadable, traitlets compared the first %config set with
    # the trait's static default and, equal to it, skipped validation: max_parallel became 0
    monkeypatch.setenv(variable, junk)
    mira = Mira()
    config = Config()
    config.Mira[setting] = refused
    with pytest.raises(TraitError):
        mira.update_config(config)
    with pytest.raises(ValueError, match=variable):  # nothing was kept: the variable is still wrong
        getattr(mira, setting)
    config = Config()
    config.Mira[setting] = accepted
    mira.update_config(config)  # a good value replaces the junk one
    assert getattr(mira, setting) == accepted


def test_a_first_set_of_the_wrong_type_over_a_junk_environment_value_keeps_nothing(monkeypatch):
    monkeypatch.setenv("MIRA_MAX_PARALLEL", "lots")
    mira = Mira()
    config = Config()
    config.Mira.max_parallel = "four"
    with pytest.raises(TraitError):
        mira.update_config(config)
    with pytest.raises(ValueError, match="MIRA_MAX_PARALLEL must be a whole number, got 'lots'"):
        _ = mira.max_parallel


def test_the_token_cap_is_a_setting(monkeypatch, tmp_path):
    # it was only EngineSettings.max_total_tokens: no %config and no MIRA_MAX_TOTAL_TOKENS
    assert Mira().max_total_tokens == 600_000
    monkeypatch.setenv("MIRA_MAX_TOTAL_TOKENS", "50000")
    mira = Mira(project_root=str(tmp_path))
    assert mira.engine_settings().max_total_tokens == 50_000
    mira.max_total_tokens = 1_200_000
    assert mira.engine_settings().max_total_tokens == 1_200_000


@pytest.mark.parametrize("value", [0, -1, 2_000_000_000, True])
def test_a_token_cap_set_is_checked(value):
    with pytest.raises(TraitError, match="Mira.max_total_tokens must be"):
        Mira(max_total_tokens=value)


@pytest.mark.parametrize(("value", "message"), [("lots", "a whole number"), ("0", "between 1 and 1000000000")])
def test_a_token_cap_from_the_environment_is_checked(monkeypatch, value, message):
    monkeypatch.setenv("MIRA_MAX_TOTAL_TOKENS", value)
    with pytest.raises(ValueError, match=f"MIRA_MAX_TOTAL_TOKENS must be {message}"):
        _ = Mira().max_total_tokens


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MIRA_APPROVE_TIMEOUT", "5", "MIRA_APPROVE_TIMEOUT must be between 10 and 86400, got 5"),
        ("MIRA_ALLOW_UNPRICED", "maybe", "MIRA_ALLOW_UNPRICED must be true or false, got 'maybe'"),
        ("MIRA_INSERT_CODE", "sure", "MIRA_INSERT_CODE must be true or false, got 'sure'"),
        ("MIRA_ALLOW_UNSANDBOXED_COMMANDS", "y", "MIRA_ALLOW_UNSANDBOXED_COMMANDS must be true or false"),
    ],
)
def test_junk_flags_and_an_out_of_range_approval_timeout_are_refused(monkeypatch, variable, value, message):
    # they read as "no" (a flag) or were taken as they were (5 s, below the 10 s a set value needs)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        getattr(Mira(), variable.removeprefix("MIRA_").lower())


@pytest.mark.parametrize("value", ["1", "true", "Yes", "ON"])
def test_flag_words_still_read(monkeypatch, value):
    monkeypatch.setenv("MIRA_INSERT_CODE", value)
    assert Mira().insert_code is True


def test_a_junk_view_in_the_environment_is_refused_where_a_cell_picks_its_view():
    # r14d F3: view_kind read MIRA_VIEW itself and took a word naming no view as auto
    from mira_jupyter.ui.choose import view_kind

    with pytest.raises(ValueError, match="^MIRA_VIEW must be auto, widget or text, got 'wat'$"):
        view_kind("auto", shell=None, env={"MIRA_VIEW": "wat"})
    assert view_kind("auto", shell=None, env={"MIRA_VIEW": " Text "}) == "text"
    assert view_kind("text", shell=None, env={"MIRA_VIEW": "wat"}) == "text"  # an explicit choice wins
    assert view_kind(None, shell=None, env={}) == "text"  # no kernel: text


@pytest.mark.parametrize(
    ("value", "off"), [("1", True), ("yes", True), ("", False), ("0", False), ("false", False), ("off", False)]
)
def test_no_warmup_reads_yes_and_no_words(monkeypatch, value, off):
    # r14d F3: any value but '' and '0' turned the warm-up off, 'false' and 'no' included
    from mira_jupyter.notebook import warmup

    monkeypatch.setenv("MIRA_NO_WARMUP", value)
    assert warmup.disabled() is off


def test_a_junk_no_warmup_value_is_one_line_and_keeps_the_warmup(monkeypatch, capsys):
    from mira_jupyter.notebook import warmup

    monkeypatch.setattr(warmup, "_said_junk", False)
    monkeypatch.setenv("MIRA_NO_WARMUP", "maybe")
    assert warmup.disabled() is False
    assert warmup.disabled() is False
    err = capsys.readouterr().err
    assert err == (
        "mira: MIRA_NO_WARMUP must be true or false, got 'maybe' (1/0, true/false, yes/no, on/off); "
        "warming up\n"
    )  # once
