"""The `Mira` traitlets Configurable: ``%config Mira.orchestrator_model = "openai:gpt-5"``.

Every trait has an environment-variable equivalent (``MIRA_<TRAIT>`` in upper case),
read when the configurable is created; ``%config`` wins over the environment.
"""

from __future__ import annotations

import functools
import math
import os
import re
from decimal import Decimal
from pathlib import Path

from traitlets import Bool, Enum, Float, Int, List, TraitError, Undefined, Unicode, Union, default
from traitlets import validate as _traitlets_validate
from traitlets.config import Configurable

from .engine.settings import LIMITS, EngineSettings, check_budget

_MODEL_HELP = "Model id as provider:model, e.g. openai:gpt-5, deepseek:deepseek-chat, ollama:llama3.1"


class SettingRefused(TraitError, ValueError):
    """A refused setting: a TraitError for traitlets (so it undoes the value) and a ValueError
    for the callers that already catch one."""


def validate(*names: str):  # noqa: ANN201 - a decorator factory, as traitlets' own
    """traitlets' ``@validate``, with a refusal always raised as TraitError.

    traitlets undoes a refused value only for TraitError: under ``%config`` (set inside
    ``hold_trait_notifications``) a ValueError is printed but the bad value stays in effect.
    """

    def decorate(check):  # noqa: ANN001, ANN202
        @functools.wraps(check)
        def refusing(self, proposal):  # noqa: ANN001, ANN202
            try:
                return check(self, proposal)
            except SettingRefused:
                raise
            except (TraitError, ValueError) as exc:
                raise SettingRefused(str(exc)) from None

        return _traitlets_validate(*names)(refusing)

    return decorate


def _env(name: str) -> str | None:
    value = os.environ.get(f"MIRA_{name.upper()}")
    return value if value not in (None, "") else None


def _env_int(name: str, fallback: int | None, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number from MIRA_<NAME> within [low, high], or `fallback` when unset (one
    clear line naming the variable if it is bad: traitlets does not validate defaults)."""
    value = _env(name)
    if value is None:
        return fallback
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"MIRA_{name.upper()} must be a whole number, got {value!r}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"MIRA_{name.upper()} must be {bounds}, got {number}")
    return number


def _env_model(name: str) -> str | None:
    """A ``provider:model`` id from MIRA_<NAME>, checked as %config checks it (traitlets does
    not validate defaults: a bad id failed only when an operation ran)."""
    value = _env(name)
    if value is None:
        return None
    try:
        return check_model_id(value.strip())
    except ValueError as exc:
        raise ValueError(f"MIRA_{name.upper()}: {exc}") from None


def _env_number(name: str, fallback: float | None, low: float, high: float, what: str) -> float | None:
    """A finite number from MIRA_<NAME> within [low, high], or `fallback` when unset: one
    clear line naming the variable otherwise (float() takes 'nan' and 'inf')."""
    value = _env(name)
    if value is None:
        return fallback
    try:
        number = float(value.strip().lstrip("$"))
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"MIRA_{name.upper()} must be {what}, got {value!r}")
    return number


def _env_flag(name: str) -> bool:
    """A yes/no MIRA_<NAME> (1/0, true/false, yes/no, on/off): a word meaning neither is one
    clear line, not silently "no"."""
    from .llm.providers import parse_flag

    return parse_flag(_env(name), f"MIRA_{name.upper()}")


def _in_range(name: str, value: int, low: int, high: int, error: type[Exception] = ValueError) -> int:
    """`value` if it lies in [low, high], else one clear line naming the setting."""
    if not low <= value <= high:
        raise error(f"Mira.{name} must be between {low} and {high}, got {value}")
    return value


def interpolation_cap(value: int, env: bool = False) -> int:
    """Mira.max_interpolated_tokens, which caps every value: 0 or less would send any
    size whole, so it is refused in one line naming the setting."""
    if value < 1:
        name = "MIRA_MAX_INTERPOLATED_TOKENS" if env else "Mira.max_interpolated_tokens"
        raise ValueError(
            f"{name} must be at least 1 (it caps each interpolated value), got {value}; "
            "send a cell as written with %%mira --no-interpolate"
        )
    return value


def _env_effort(name: str, fallback: str) -> str:
    """An effort word from MIRA_<NAME>, checked when read (one clear line if it is bad)."""
    from .llm.capabilities import normalize_effort

    value = _env(name)
    if value is None:
        return fallback
    try:
        normalize_effort(value)
    except ValueError as exc:
        raise ValueError(f"MIRA_{name.upper()}: {exc}") from None
    return value.strip()


def check_model_id(value: str) -> str:
    """Validate a ``provider:model`` id, raising ValueError with a helpful message."""
    provider, sep, model = value.partition(":")
    if not sep or not provider.strip() or not model.strip():
        raise ValueError(f"model id {value!r} must look like provider:model ({_MODEL_HELP})")
    return value


# loop caps: a turn cap above this is a runaway, not a setting (each turn is a paid call)
MAX_TURNS = 100
# the engine's own bounds on the token cap (engine.settings.LIMITS)
MAX_TOTAL_TOKENS = next(high for name, _, high in LIMITS if name == "max_total_tokens")
# seconds of silence a model request may wait: a day is already no timeout at all
MAX_TIMEOUT = 86_400.0
# a program name in Mira.commands: a bare name, no path, no shell
_PROGRAM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


class Mira(Configurable):
    """Configuration of the mira_jupyter extension."""

    orchestrator_model = Unicode(help="Orchestrator model. " + _MODEL_HELP).tag(config=True)
    executor_model = Unicode(help="Executor model. " + _MODEL_HELP).tag(config=True)
    project_root = Unicode(
        help="Sandbox root for the file tools (default: the kernel's working directory at load)."
    ).tag(config=True)
    database = Unicode(
        help="DuckDB file or connection string for the log (default: <project_root>/.mira/mira.duckdb)."
    ).tag(config=True)
    lake_data_path = Unicode(
        help="Where a DuckLake team log (Mira.database = 'ducklake:postgres:...') keeps its Parquet "
        "files: a shared directory or an object-store URL; needed only when the lake is created."
    ).tag(config=True)
    otel_endpoint = Unicode(
        help="OTLP/HTTP endpoint that receives each operation as an OpenTelemetry trace "
        "(default: OTEL_EXPORTER_OTLP_ENDPOINT; empty: no export). Needs mira_jupyter[otel]."
    ).tag(config=True)
    simple_threshold = Float(help="Simplicity score above which a request runs in simple mode.").tag(
        config=True
    )
    budget_usd = Float(
        allow_none=True, help="Spending cap in USD of this kernel's session; each kernel has its own (None: no cap)."
    ).tag(config=True)
    team_budget_usd = Float(
        allow_none=True,
        help="Spending cap in USD of everyone writing this log (the team log) per team_budget_period, "
        "checked before each call against the log's spend and every kernel's calls in flight (None: no cap).",
    ).tag(config=True)
    team_budget_period = Unicode(help="The team budget's period: day or month (UTC).").tag(config=True)
    reasoning_planning = Unicode(help="Reasoning effort for planning.").tag(config=True)
    reasoning_simple = Unicode(help="Reasoning effort for simple mode.").tag(config=True)
    reasoning_execution = Unicode(help="Reasoning effort while executing a plan.").tag(config=True)
    max_orchestrator_turns = Int(help="Cap on orchestrator turns per task.").tag(config=True)
    max_executor_turns = Int(help="Cap on executor turns per delegation.").tag(config=True)
    max_parallel = Int(
        help="Read-only delegations (read, search, list, summary, structure) of one orchestrator "
        "turn that run at once (1: one after another; writes always are)."
    ).tag(config=True)
    request_timeout = Float(help="Seconds before a model request times out.").tag(config=True)
    max_total_tokens = Int(
        help="Cap on the input plus output tokens of one operation: each call reserves its worst "
        "case before it is sent, and a call that does not fit ends the operation (1 to 1,000,000,000)."
    ).tag(config=True)
    max_output_tokens = Int(
        allow_none=True,
        help="Output-token cap of every model call (None: a default per phase, within the model's limit).",
    ).tag(config=True)
    repo_map_tokens = Int(
        help="Token budget of the ranked repo map used as the project snapshot (simple mode, planning)."
    ).tag(config=True)
    instructions_tokens = Int(
        help="Token cap on the project instructions (AGENTS.md or .mira/instructions.md) "
        "put in every system prompt; 0 turns them off."
    ).tag(config=True)
    commands = List(
        Unicode(),
        help="Programs run_tests may start in the bubblewrap sandbox without asking "
        "(bare names; empty: no commands). Needs Linux with bubblewrap.",
    ).tag(config=True)
    allow_unsandboxed_commands = Bool(
        help="Where bubblewrap cannot run, still offer run_tests, run_command and run_code, "
        "WITHOUT a sandbox (they can read and write anything this account can). Off by "
        "default; every operation it applies to says so in a warning that the log keeps.",
    ).tag(config=True)
    approve = Unicode(
        help="Which changes wait for your approval, with their diff in the cell: never (default; "
        "undo-backed), writes (file-tool writes; listed commands and run_code run unasked), "
        "always (commands and run_code too), or auto-under:COST,N-lines, e.g. "
        "auto-under:0.02,20-lines (ask only when the operation has cost $0.02 or the change is "
        "20 lines). A program outside Mira.commands always asks."
    ).tag(config=True)
    approve_timeout = Float(
        help="Seconds a change waits for Approve or Reject before it is rejected (10 to 86400)."
    ).tag(config=True)
    view = Enum(["auto", "widget", "text"], help="How operations are shown in the cell.").tag(
        config=True
    )
    max_interpolated_tokens = Int(
        help="Cap in tokens on each value a cell interpolates ({name}, {In[n]}, {Out[n]}, {Err})."
    ).tag(config=True)
    history_tokens = Int(
        help="Tokens of earlier turns a cell carries into the conversation (newest first)."
    ).tag(config=True)
    insert_code = Bool(help="Put the code blocks of every answer into a new cell below.").tag(
        config=True
    )
    compatible_base_url = Unicode(
        help="Base URL of the generic OpenAI-compatible provider (model ids compatible:MODEL)."
    ).tag(config=True)
    compatible_api_key_env = Unicode(
        help="Name of the environment variable holding the compatible provider's key."
    ).tag(config=True)
    responses_api = Union(
        [Bool(), List(Unicode())],
        allow_none=True,
        help="Call models over the OpenAI Responses API: None (default) for OpenAI's reasoning "
        "models per the capability table, True for every model whose provider serves it, "
        "False for none, or a list of model ids. The openai-responses: prefix always does.",
    ).tag(config=True)
    responses_store = Bool(
        help="Responses API: keep responses at the provider and chain calls with "
        "previous_response_id (default False: nothing stored, reasoning passed back encrypted)."
    ).tag(config=True)
    reasoning_summary = Enum(
        ["auto", "concise", "detailed", "none"],
        help="Responses API: reasoning summaries to ask for (shown as a 'thinking' line).",
    ).tag(config=True)
    prices_file = Unicode(
        help="JSON price table merged over the shipped one (default: $MIRA_PRICES_FILE)."
    ).tag(config=True)
    allow_unpriced = Bool(
        help="Run models without a price under a budget (their calls are not counted; a warning says so)."
    ).tag(config=True)

    @default("orchestrator_model")
    def _default_orchestrator(self) -> str:
        return _env_model("orchestrator_model") or "openai:gpt-5"

    @default("executor_model")
    def _default_executor(self) -> str:
        return _env_model("executor_model") or "deepseek:deepseek-chat"

    @default("project_root")
    def _default_root(self) -> str:
        return _env("project_root") or os.getcwd()

    @default("database")
    def _default_database(self) -> str:
        return _env("database") or ""

    @default("team_budget_usd")
    def _default_team_budget(self) -> float | None:
        value = _env_number("team_budget_usd", None, 0, math.inf, "a positive amount in USD such as 50")
        if value is not None:
            check_budget(Decimal(str(value)), "MIRA_TEAM_BUDGET_USD")
        return value

    @default("team_budget_period")
    def _default_team_budget_period(self) -> str:
        return _env("team_budget_period") or "month"

    @validate("team_budget_period")
    def _check_team_budget_period(self, proposal):  # noqa: ANN001 - traitlets signature
        from .core.money import TEAM_BUDGET_PERIODS  # the ledger's list (store.team_budget.PERIODS)

        value = str(proposal["value"]).strip().lower()
        if value not in TEAM_BUDGET_PERIODS:
            raise TraitError(
                f"team_budget_period must be {' or '.join(TEAM_BUDGET_PERIODS)}, got {proposal['value']!r}"
            )
        return value

    @validate("team_budget_usd")
    def _check_team_budget(self, proposal):  # noqa: ANN001
        value = proposal["value"]
        if value is not None:
            check_budget(Decimal(str(value)), "Mira.team_budget_usd")
        return value

    @default("lake_data_path")
    def _default_lake_data_path(self) -> str:
        return _env("lake_data_path") or ""

    @default("simple_threshold")
    def _default_threshold(self) -> float:
        return _env_number("simple_threshold", 0.7, 0.0, 1.0, "a number between 0 and 1")

    @default("budget_usd")
    def _default_budget(self) -> float | None:
        value = _env("budget_usd")
        if not value:
            return None
        try:
            amount = float(value.strip().lstrip("$"))
        except ValueError:
            raise ValueError(f"MIRA_BUDGET_USD must be an amount in USD such as 0.50, got {value!r}") from None
        if not 0 < amount < float("inf"):
            raise ValueError(f"MIRA_BUDGET_USD must be a positive amount, got {value!r}")
        check_budget(Decimal(str(amount)), "MIRA_BUDGET_USD")
        return amount

    @default("allow_unpriced")
    def _default_allow_unpriced(self) -> bool:
        return _env_flag("allow_unpriced")

    @default("reasoning_planning")
    def _default_r_plan(self) -> str:
        return _env_effort("reasoning_planning", "high")

    @default("reasoning_simple")
    def _default_r_simple(self) -> str:
        return _env_effort("reasoning_simple", "low")

    @default("reasoning_execution")
    def _default_r_exec(self) -> str:
        return _env_effort("reasoning_execution", "medium")

    @default("max_orchestrator_turns")
    def _default_orch_turns(self) -> int:
        return _env_int("max_orchestrator_turns", 8, 1, MAX_TURNS)

    @validate("max_orchestrator_turns", "max_executor_turns")
    def _check_turns(self, proposal):  # noqa: ANN001 - traitlets signature
        name = proposal["trait"].name
        if isinstance(proposal["value"], bool):
            raise TraitError(f"Mira.{name} must be a whole number, got {proposal['value']}")
        return _in_range(name, proposal["value"], 1, MAX_TURNS, TraitError)

    @default("max_parallel")
    def _default_max_parallel(self) -> int:
        return _env_int("max_parallel", 4, 1, 16)

    @validate("max_parallel")
    def _check_max_parallel(self, proposal):  # noqa: ANN001 - traitlets signature
        if isinstance(proposal["value"], bool):
            raise TraitError(f"Mira.max_parallel must be a whole number, got {proposal['value']}")
        return _in_range("max_parallel", proposal["value"], 1, 16, TraitError)

    @default("max_total_tokens")
    def _default_max_total_tokens(self) -> int:
        return _env_int("max_total_tokens", 600_000, 1, MAX_TOTAL_TOKENS)

    @validate("max_total_tokens")
    def _check_max_total_tokens(self, proposal):  # noqa: ANN001 - traitlets signature
        if isinstance(proposal["value"], bool):
            raise TraitError(f"Mira.max_total_tokens must be a whole number, got {proposal['value']}")
        return _in_range("max_total_tokens", proposal["value"], 1, MAX_TOTAL_TOKENS, TraitError)

    @default("max_executor_turns")
    def _default_exec_turns(self) -> int:
        return _env_int("max_executor_turns", 6, 1, MAX_TURNS)

    @default("request_timeout")
    def _default_timeout(self) -> float:
        return _env_number("request_timeout", 120.0, 1.0, MAX_TIMEOUT, f"seconds between 1 and {MAX_TIMEOUT:g}")

    @validate("request_timeout")
    def _check_timeout(self, proposal):  # noqa: ANN001 - traitlets signature
        value = proposal["value"]
        if not (math.isfinite(value) and 1.0 <= value <= MAX_TIMEOUT):
            raise TraitError(f"Mira.request_timeout must be seconds between 1 and {MAX_TIMEOUT:g}, got {value}")
        return value

    @default("max_output_tokens")
    def _default_max_output(self) -> int | None:
        return _env_int("max_output_tokens", None, 1)

    @validate("max_output_tokens")
    def _check_max_output(self, proposal):  # noqa: ANN001
        value = proposal["value"]
        if value is not None and value < 1:
            raise ValueError(f"max_output_tokens must be at least 1, got {value}")
        return value

    @default("repo_map_tokens")
    def _default_repo_map_tokens(self) -> int:
        return _env_int("repo_map_tokens", 1500, 100, 50_000)

    @validate("repo_map_tokens")
    def _check_repo_map_tokens(self, proposal):  # noqa: ANN001 - traitlets signature
        return _in_range("repo_map_tokens", proposal["value"], 100, 50_000)

    @default("instructions_tokens")
    def _default_instructions_tokens(self) -> int:
        return _env_int("instructions_tokens", 2000, 0, 50_000)

    @validate("instructions_tokens")
    def _check_instructions_tokens(self, proposal):  # noqa: ANN001 - traitlets signature
        return _in_range("instructions_tokens", proposal["value"], 0, 50_000)

    @default("commands")
    def _default_commands(self) -> list[str]:
        value = _env("commands")
        if value is None:
            return ["python", "pytest", "ruff"]
        names = [name.strip() for name in value.split(",") if name.strip()]
        for name in names:  # traitlets does not validate defaults
            if not _PROGRAM.fullmatch(name):
                raise ValueError(
                    f"MIRA_COMMANDS is program names separated by commas, such as pytest,ruff; not {name!r}"
                )
        return names

    @validate("commands")
    def _check_commands(self, proposal):  # noqa: ANN001 - traitlets signature
        for name in proposal["value"]:
            if not _PROGRAM.fullmatch(name):
                raise ValueError(f"Mira.commands holds program names such as 'pytest', not {name!r}")
        return proposal["value"]

    @default("allow_unsandboxed_commands")
    def _default_allow_unsandboxed(self) -> bool:
        return _env_flag("allow_unsandboxed_commands")
    @default("approve")
    def _default_approve(self) -> str:
        from .engine.approval_policy import parse_approve

        value = _env("approve") or "never"
        parse_approve(value, "MIRA_APPROVE")  # a bad value is one clear line where it is read
        return value.strip().lower()

    @validate("approve")
    def _check_approve(self, proposal):  # noqa: ANN001 - traitlets signature
        from .engine.approval_policy import parse_approve

        return parse_approve(proposal["value"]).describe()

    @default("approve_timeout")
    def _default_approve_timeout(self) -> float:
        return float(_env_int("approve_timeout", 600, 10, 86_400))

    @validate("approve_timeout")
    def _check_approve_timeout(self, proposal):  # noqa: ANN001 - traitlets signature
        return _in_range("approve_timeout", proposal["value"], 10, 86_400, TraitError)

    @default("view")
    def _default_view(self) -> str:
        from .core.views import view_from_env

        return view_from_env()

    @default("max_interpolated_tokens")
    def _default_interpolated(self) -> int:
        # traitlets validates set values only: a default from the environment is checked here
        return interpolation_cap(_env_int("max_interpolated_tokens", 2_000), env=True)

    @default("history_tokens")
    def _default_history(self) -> int:
        value = _env_int("history_tokens", 6_000)
        if value < 0:
            raise ValueError(f"MIRA_HISTORY_TOKENS must be 0 or more, got {value}")
        return value

    @default("insert_code")
    def _default_insert(self) -> bool:
        return _env_flag("insert_code")

    @validate("max_interpolated_tokens")
    def _checkinterpolation_cap(self, proposal):  # noqa: ANN001
        return interpolation_cap(proposal["value"])

    @validate("history_tokens")
    def _check_non_negative(self, proposal):  # noqa: ANN001
        if proposal["value"] < 0:
            raise ValueError(f"{proposal['trait'].name} must be 0 or more, got {proposal['value']}")
        return proposal["value"]

    @default("compatible_base_url")
    def _default_compat_url(self) -> str:
        return _env("compatible_base_url") or ""

    @default("compatible_api_key_env")
    def _default_compat_key(self) -> str:
        return _env("compatible_api_key_env") or "MIRA_COMPATIBLE_API_KEY"

    @default("responses_api")
    def _default_responses_api(self) -> bool | list[str] | None:
        from .llm.providers import parse_responses_setting

        value = parse_responses_setting(_env("responses_api"))
        return sorted(value) if isinstance(value, set) else value

    @default("responses_store")
    def _default_responses_store(self) -> bool:
        from .llm.providers import parse_flag

        return parse_flag(_env("responses_store"), "MIRA_RESPONSES_STORE")

    @default("reasoning_summary")
    def _default_reasoning_summary(self) -> str:
        value = (_env("reasoning_summary") or "auto").strip().lower()
        if value not in ("auto", "concise", "detailed", "none"):
            raise ValueError(
                f"MIRA_REASONING_SUMMARY must be auto, concise, detailed or none, got {value!r}"
            )
        return value

    @validate("responses_api")
    def _check_responses_api(self, proposal):  # noqa: ANN001 - traitlets signature
        from .llm.providers import parse_responses_setting

        parse_responses_setting(proposal["value"])  # a typo in a model id is an error now
        return proposal["value"]

    @validate("orchestrator_model", "executor_model")
    def _check_model(self, proposal):  # noqa: ANN001 - traitlets signature
        return check_model_id(proposal["value"])

    @validate("budget_usd")
    def _check_budget(self, proposal):  # noqa: ANN001
        value = proposal["value"]
        if value is not None:
            try:
                check_budget(Decimal(str(value)), "Mira.budget_usd")
            except ValueError as exc:
                raise TraitError(str(exc)) from None
        return value

    @validate("reasoning_planning", "reasoning_simple", "reasoning_execution")
    def _check_effort(self, proposal):  # noqa: ANN001 - traitlets signature
        from .llm.capabilities import normalize_effort

        try:
            normalize_effort(proposal["value"])
        except ValueError as exc:
            raise TraitError(f"Mira.{proposal['trait'].name}: {exc}") from None
        return proposal["value"].strip()

    @validate("simple_threshold")
    def _check_threshold(self, proposal):  # noqa: ANN001
        value = proposal["value"]
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"simple_threshold must be between 0 and 1, got {value}")
        return value

    def _load_config(self, cfg, section_names=None, traits=None) -> None:  # noqa: ANN001 - traitlets signature
        """Load ``%config`` / config-file values, each compared with and rolled back to the
        trait's real default.

        traitlets compares a first set with the trait's static default ('' or 0) while the
        dynamic default (``@default``, which reads MIRA_*) is still unread: a value equal to
        it would skip validation, and a refused one would roll back to it rather than to
        the default. So the dynamic defaults of the traits being set are read first.
        """
        known = traits if traits is not None else self.traits(config=True)
        unread: list[str] = []
        for name in self._find_my_config(cfg):
            if name in known and name not in self._trait_values:
                try:
                    getattr(self, name)
                except Exception:
                    # a bad MIRA_* value: the value being set replaces it, and must still be
                    # validated. Undefined equals nothing, so traitlets sees a change and
                    # validates it; a refusal rolls back to no value (the next read says
                    # what is wrong with the variable)
                    self._trait_values[name] = Undefined
                    unread.append(name)
        try:
            super()._load_config(cfg, section_names, traits)
        finally:
            for name in unread:
                if self._trait_values.get(name) is Undefined:
                    del self._trait_values[name]

    def resolved_root(self) -> Path:
        """The project root as an absolute, resolved path."""
        return Path(self.project_root).expanduser().resolve()

    def resolved_database(self) -> str:
        """The database location: a connection string as given, a file path made absolute
        (relative paths are relative to the project root), or the default under .mira/."""
        value = self.database
        if not value:
            return str(self.resolved_root() / ".mira" / "mira.duckdb")
        if re.match(r"^ducklake:", value, re.IGNORECASE):
            return value  # the shared team log (the session hands on lake_data_path)
        if value.startswith(":memory:") or re.match(r"^(?:md|motherduck):", value, re.IGNORECASE):
            # ":memory:" and MotherDuck ("md:team_log") are not files; anything else with a
            # ':' ("notes.v2:log.duckdb") is a file DuckDB opens, and the sandbox must protect it
            return value
        # one absolute path, so the recorder writes and the sandbox protects the same file
        return str((self.resolved_root() / Path(value).expanduser()).resolve())

    def engine_settings(self) -> EngineSettings:
        """Translate the configuration into the engine's plain settings."""
        from .engine.settings import default_user_skills_dir

        budget = None if self.budget_usd is None else Decimal(str(self.budget_usd))
        providers: dict = {
            "compatible_api_key_env": self.compatible_api_key_env,
            "responses_api": self.responses_api,
            "responses_store": self.responses_store,
            "reasoning_summary": self.reasoning_summary,
        }
        if self.compatible_base_url:
            providers["compatible_base_url"] = self.compatible_base_url
        return EngineSettings(
            project_root=self.resolved_root(),
            orchestrator_model=self.orchestrator_model,
            executor_model=self.executor_model,
            database=self.resolved_database(),
            simple_threshold=self.simple_threshold,
            budget_usd=budget,
            reasoning_planning=self.reasoning_planning,
            reasoning_simple=self.reasoning_simple,
            reasoning_execution=self.reasoning_execution,
            max_orchestrator_turns=self.max_orchestrator_turns,
            max_executor_turns=self.max_executor_turns,
            max_parallel=self.max_parallel,
            max_total_tokens=self.max_total_tokens,
            request_timeout=self.request_timeout,
            max_output_tokens=self.max_output_tokens,
            # the engine protects the directory it loads skills from (MIRA_SKILLS_DIR, read now)
            user_skills_dir=default_user_skills_dir(),
            repo_map_tokens=self.repo_map_tokens,
            instructions_tokens=self.instructions_tokens,
            commands=tuple(self.commands),
            allow_unsandboxed_commands=self.allow_unsandboxed_commands,
            approve=self.approve,
            approve_timeout=self.approve_timeout,
            history_tokens=self.history_tokens,
            provider_settings=providers,
            prices_file=self.resolved_prices_file(),
            allow_unpriced=self.allow_unpriced,
        )

    def resolved_prices_file(self) -> str | None:
        """The user price file as an absolute path (relative to the project root), or None.

        MIRA_PRICES_FILE is read now, not once: `%env MIRA_PRICES_FILE=...` after the first
        operation takes effect at the next one.
        """
        named = self.prices_file or os.environ.get("MIRA_PRICES_FILE") or ""
        if not named:
            return None
        return str((self.resolved_root() / Path(named).expanduser()).resolve())
