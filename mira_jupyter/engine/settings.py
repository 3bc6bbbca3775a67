"""Engine settings: plain data, so the engine runs without traitlets or a kernel."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass
class EngineSettings:
    """Everything the engine needs to know about models, limits and locations."""

    project_root: Path
    orchestrator_model: str = "openai:gpt-5"
    executor_model: str = "deepseek:deepseek-chat"
    database: str | None = None  # a path or DuckDB connection string; None = no log
    simple_threshold: float = 0.7
    budget_usd: Decimal | None = None
    reasoning_planning: str = "high"
    reasoning_simple: str = "low"
    reasoning_execution: str = "medium"
    max_orchestrator_turns: int = 8  # per task
    max_executor_turns: int = 6  # per delegation
    max_parallel: int = 4  # read-only delegations of one orchestrator turn run at once (1: none)
    max_tool_result_chars: int = 16_000
    repo_map_tokens: int = 1_500  # the ranked repo map given to simple mode and planning
    instructions_tokens: int = 2_000  # cap on AGENTS.md in every system prompt
    # programs run_tests / run_command may start in the bubblewrap sandbox (empty: none)
    commands: tuple[str, ...] = ("python", "pytest", "ruff")
    # where bubblewrap cannot run: offer the command tools unsandboxed (warned every operation)
    allow_unsandboxed_commands: bool = False
    approve: str = "never"  # Mira.approve: which changes wait for the user (approval_policy)
    approve_timeout: float = 600.0  # seconds a change waits for its answer, then it is rejected
    max_total_tokens: int = 600_000
    output_reserve_tokens: int = 1_024  # assumed output of a call when checking the budget
    max_output_tokens: int | None = None  # the output cap of every call (None: per phase)
    request_timeout: float = 120.0
    history_tokens: int = 6_000  # earlier turns of the conversation carried, newest first
    user_skills_dir: Path | None = None
    prices_file: str | None = None  # a user price table merged over the shipped one
    allow_unpriced: bool = False  # run unpriced models under a budget (uncounted, with a warning)
    provider_settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from ..llm.capabilities import normalize_effort

        # a bad effort word fails here, in one line, not as every operation's internal error
        for name in ("reasoning_planning", "reasoning_simple", "reasoning_execution"):
            try:
                normalize_effort(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        from .approval_policy import parse_approve

        parse_approve(self.approve, "approve")  # one line now, not in every operation
        # loop caps and the token cap: a nonsense value would fail (or loop) in every operation
        for name, low, high in LIMITS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number between {low:,} and {high:,}, got {value!r}")


# (setting, lowest, highest) of the whole-number limits checked when settings are made
LIMITS = (
    ("max_orchestrator_turns", 1, 100),
    ("max_executor_turns", 1, 100),
    ("max_parallel", 1, 16),
    ("max_total_tokens", 1, 1_000_000_000),
)

# the log stores dollars as DECIMAL(18, 9): a cap above this could not even be recorded
MAX_BUDGET_USD = Decimal(1_000_000)


def check_budget(amount: Decimal, what: str = "budget") -> Decimal:
    """`amount` if it is a usable spending cap in USD; ValueError (one line) otherwise."""
    if not amount.is_finite():
        raise ValueError(f"{what} must be a finite amount in USD, got {amount}")
    if amount <= 0:
        raise ValueError(f"{what} must be positive, got {amount}")
    if amount > MAX_BUDGET_USD:
        raise ValueError(f"{what} must be at most ${MAX_BUDGET_USD:,}, got {amount:,}"[:200])
    return amount


def default_user_skills_dir() -> Path:
    """The user's skills directory now (MIRA_SKILLS_DIR, else the XDG location)."""
    from ..skills import default_user_dir

    return default_user_dir()
