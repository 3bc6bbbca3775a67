import pytest
from traitlets import TraitError

from mira_jupyter.config import Mira


def test_environment_variables_are_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("MIRA_ORCHESTRATOR_MODEL", "openai:gpt-5-mini")
    monkeypatch.setenv("MIRA_PROJECT_ROOT", str(tmp_path))
    monkeypatch.setenv("MIRA_BUDGET_USD", "0.5")
    config = Mira()
    assert config.orchestrator_model == "openai:gpt-5-mini"
    settings = config.engine_settings()
    assert settings.project_root == tmp_path.resolve()
    assert str(settings.budget_usd) == "0.5"
    assert settings.database == str(tmp_path.resolve() / ".mira" / "mira.duckdb")


def test_explicit_config_wins_over_environment(monkeypatch):
    monkeypatch.setenv("MIRA_EXECUTOR_MODEL", "deepseek:deepseek-chat")
    config = Mira()
    config.executor_model = "ollama:qwen2.5-coder"
    assert config.engine_settings().executor_model == "ollama:qwen2.5-coder"


@pytest.mark.parametrize("bad", ["gpt-5", ":gpt-5", "openai:", ""])
def test_malformed_model_ids_are_refused_with_the_expected_shape(bad):
    config = Mira()
    with pytest.raises((ValueError, TraitError), match="provider:model"):
        config.orchestrator_model = bad


def test_threshold_range_is_checked():
    with pytest.raises((ValueError, TraitError), match="between 0 and 1"):
        Mira().simple_threshold = 1.5


@pytest.mark.parametrize("trait", ["reasoning_planning", "reasoning_simple", "reasoning_execution"])
def test_effort_words_are_checked_when_set(trait):
    # issue 14: a bad word was accepted and then failed every operation as an internal error
    from traitlets import TraitError

    mira = Mira()
    setattr(mira, trait, " minimal ")
    assert getattr(mira, trait) == "minimal"
    setattr(mira, trait, "Deep")
    assert getattr(mira, trait) == "Deep"  # kept as typed: the log stores the word asked
    with pytest.raises(TraitError, match=f"^Mira.{trait}: unknown reasoning effort 'turbo'") as info:
        setattr(mira, trait, "turbo")
    assert "\n" not in str(info.value)
    assert getattr(mira, trait) == "Deep"


def test_an_effort_word_from_the_environment_is_checked(monkeypatch):
    monkeypatch.setenv("MIRA_REASONING_EXECUTION", "turbo")
    with pytest.raises(ValueError, match="^MIRA_REASONING_EXECUTION: unknown reasoning effort"):
        Mira().reasoning_execution  # noqa: B018 - the default is read here
    monkeypatch.setenv("MIRA_REASONING_EXECUTION", "minimal")
    assert Mira().reasoning_execution == "minimal"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MIRA_MAX_PARALLEL", "0", "MIRA_MAX_PARALLEL must be between 1 and 16, got 0"),
        ("MIRA_MAX_PARALLEL", "99", "MIRA_MAX_PARALLEL must be between 1 and 16, got 99"),
        ("MIRA_MAX_OUTPUT_TOKENS", "-7", "MIRA_MAX_OUTPUT_TOKENS must be at least 1, got -7"),
        ("MIRA_INSTRUCTIONS_TOKENS", "-3", "MIRA_INSTRUCTIONS_TOKENS must be between 0 and 50000"),
        ("MIRA_REPO_MAP_TOKENS", "5", "MIRA_REPO_MAP_TOKENS must be between 100 and 50000, got 5"),
    ],
)
def test_settings_from_the_environment_are_range_checked_like_set_ones(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    attribute = variable.removeprefix("MIRA_").lower()
    with pytest.raises(ValueError, match=message):
        getattr(Mira(), attribute)


def test_max_parallel_is_not_a_boolean():
    with pytest.raises(TraitError, match="whole number"):
        Mira(max_parallel=True)


@pytest.mark.parametrize("trait", ["max_orchestrator_turns", "max_executor_turns"])
@pytest.mark.parametrize("value", [-5, 0, 10**9, True])
def test_turn_caps_are_checked_when_set(trait, value):
    with pytest.raises(TraitError, match=f"Mira.{trait} must be"):
        Mira(**{trait: value})
    assert getattr(Mira(**{trait: 3}), trait) == 3


@pytest.mark.parametrize("variable", ["MIRA_MAX_ORCHESTRATOR_TURNS", "MIRA_MAX_EXECUTOR_TURNS"])
def test_turn_caps_from_the_environment_are_checked(monkeypatch, variable):
    monkeypatch.setenv(variable, "-5")
    with pytest.raises(ValueError, match=f"{variable} must be between 1 and 100, got -5"):
        getattr(Mira(), variable.removeprefix("MIRA_").lower())


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_orchestrator_turns", -5), ("max_executor_turns", 0), ("max_parallel", 0), ("max_total_tokens", 0)],
)
def test_engine_settings_refuse_nonsense_limits_in_one_line(tmp_path, name, value):
    from mira_jupyter.engine.settings import EngineSettings

    with pytest.raises(ValueError, match=f"^{name} must be a whole number between"):
        EngineSettings(project_root=tmp_path, **{name: value})


@pytest.mark.parametrize(
    ("setting", "refused"),
    [
        ("reasoning_planning", "bogus"),
        ("reasoning_simple", ""),  # the trait's static default: it must not skip validation
        ("max_parallel", 99),
        ("max_parallel", 0),
        ("max_executor_turns", 0),
    ],
)
def test_a_first_set_through_config_is_validated_and_a_refusal_keeps_the_real_default(setting, refused):
    from traitlets.config import Config

    fresh = Mira()  # no default read yet, as right after %load_ext
    expected = getattr(Mira(), setting)
    config = Config()
    config.Mira[setting] = refused
    with pytest.raises(TraitError):
        fresh.update_config(config)
    assert getattr(fresh, setting) == expected


@pytest.mark.parametrize(
    ("setting", "refused"),
    [
        ("commands", ["sh -c", "../bin/x"]),
        ("orchestrator_model", "nocolon"),
        ("max_output_tokens", -1),
        ("simple_threshold", 2.0),
        ("repo_map_tokens", -1),
        ("instructions_tokens", -3),
        ("history_tokens", -1),
        ("max_interpolated_tokens", 0),
    ],
)
def test_a_value_refused_through_config_never_stays_in_effect(setting, refused):
    # r14c H1: %config sets inside hold_trait_notifications, where traitlets undoes a refused
    # value only for TraitError; a validator's ValueError was printed and the value kept
    # (a refused Mira.commands became the allowlist the engine got)
    from traitlets.config import Config

    mira = Mira()
    before = getattr(mira, setting)
    config = Config()
    config.Mira[setting] = refused
    with pytest.raises(TraitError):
        mira.update_config(config)
    assert getattr(mira, setting) == before
    assert mira.engine_settings().commands == tuple(Mira().commands)
