"""Planning: the orchestrator submits a structured plan; free text is parsed as a fallback."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import Field

from ..core.unicode import valid_unicode
from ..llm.types import ChatResponse
from ..tools.dispatch import tool_schemas
from ..tools.types import ToolArgs, ToolContext, ToolResult, tool
from .calls import CallRunner
from .plan_repair import MAX_TASKS, repair_plan


class PlannedTask(ToolArgs):
    description: str = Field(min_length=1, description="Imperative: '<verb> <what>'.")
    active_form: str = Field(min_length=1, description="Present continuous: '<verb>ing <what>'.")
    depends_on: list[int] = Field(
        default_factory=list,
        description="Numbers (1-based) of earlier tasks that must be completed first; "
        "leave empty when the task does not need another's result.",
    )
    reads_only: bool = Field(
        False,
        description="True when the task only reads or searches the project (changes no file, "
        "runs nothing): such tasks whose dependencies are done may run at the same time.",
    )


class SubmitPlanArgs(ToolArgs):
    tasks: list[PlannedTask] = Field(min_length=1, max_length=MAX_TASKS)


@tool
def submit_plan(args: SubmitPlanArgs, ctx: ToolContext) -> ToolResult:
    """Submit the plan as an ordered list of tasks."""
    # the schema the model sees is this tool's, built like every tool's; the engine reads the
    # call's arguments through repair_plan (task by task) rather than running it
    return ToolResult.ok(tasks=len(args.tasks))


PLANNING_TOOLS = {"submit_plan": submit_plan}
SUBMIT_PLAN_TOOL: dict[str, Any] = tool_schemas(PLANNING_TOOLS)[0]


@dataclass
class Plan:
    """A plan: its tasks, how it was obtained, and the planning call's response."""

    tasks: list[PlannedTask]
    source: str  # "structured" or "parsed"
    response: ChatResponse
    prompt: str = ""  # the planning instruction as sent (with the project snapshot, if any)
    repairs: list[str] = field(default_factory=list)  # one line per fix made to the plan

    @property
    def text(self) -> str:
        return "\n".join(f"{i}. {task.description}" for i, task in enumerate(self.tasks, 1))


def plan_from_response(response: ChatResponse) -> tuple[list[PlannedTask], str, list[str]]:
    """Tasks from a submit_plan call (repaired task by task), else from the reply's free
    text; with the source and one line per repair made."""
    repairs: list[str] = []
    for call in response.tool_calls:
        if call.name == "submit_plan":
            repaired = repair_plan(call.arguments)
            repairs = [*_unknown_keys(call.arguments), *repaired.repairs]
            if repaired.tasks:
                tasks = [
                    PlannedTask(
                        description=t.description,
                        active_form=t.active_form,
                        depends_on=list(t.depends_on),
                        reads_only=t.reads_only,
                    )
                    for t in repaired.tasks
                ]
                return tasks, "repaired" if repairs else "structured", repairs
            repairs = [*repairs, "no task of submit_plan was usable: the plan was read from the reply's text"]
            break
    from .plan_parser import parse_plan

    parsed = parse_plan(valid_unicode(response.text or ""))[:MAX_TASKS]
    tasks = [PlannedTask(description=t.description, active_form=t.active_form) for t in parsed]
    return tasks, "parsed", repairs


def _unknown_keys(arguments: Any) -> list[str]:
    """The repair line for top-level keys the schema does not have (they are ignored: one
    stray key must not cost the plan)."""
    if not isinstance(arguments, dict):
        return []
    extra = sorted(str(k)[:40] for k in arguments if k not in SubmitPlanArgs.model_fields)
    return [f"submit_plan's unknown keys were ignored: {', '.join(extra[:5])}"] if extra else []


def make_plan(
    calls: CallRunner,
    system: str,
    request: str,
    reasoning: str | None,
    context: str = "",
    history: list[dict[str, Any]] | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> Plan:
    """Ask the orchestrator for a plan at the planning reasoning effort.

    `context` (the repo map ranked for the request) goes after the request, so the system
    prompt stays a stable, cacheable prefix. `tools` is the orchestrator's one tool list
    (it must hold submit_plan); ``tool_choice`` makes this call submit the plan.
    """
    from . import prompts

    planner = f"Project snapshot:\n{context}\n\n{prompts.PLANNER}" if context else prompts.PLANNER
    messages = [
        {"role": "system", "content": system},
        *(history or []),
        {"role": "user", "content": request},
        {"role": "user", "content": planner},
    ]
    response = calls.call(
        "orchestrator",
        messages,
        tools=tools or [SUBMIT_PLAN_TOOL],
        tool_choice="submit_plan",
        reasoning=reasoning,
        purpose="plan",
        stream_channel="plan",
    )
    tasks, source, repairs = plan_from_response(response)
    return Plan(tasks=tasks, source=source, response=response, prompt=planner, repairs=repairs)


def estimate_plan_cost(
    pricing: Any,
    orchestrator_id: str,
    executor_id: str,
    n_tasks: int,
    context_tokens: int,
    *,
    prices: Any = None,
    reasoning_tokens: int = 0,
) -> Decimal:
    """A rough, labelled estimate of running a plan: per task two orchestrator turns and
    one executor delegation, plus the final answer. `reasoning_tokens` is the hidden
    reasoning allowance of one orchestrator turn (0 for models that do not reason)."""

    def usd(model: str, tokens_in: int, tokens_out: int) -> Decimal:
        return pricing.estimate_cost(model, tokens_in, tokens_out, prices=prices).total_usd

    per_task = usd(orchestrator_id, 2 * (context_tokens + 600), 2 * (400 + reasoning_tokens))
    per_task += usd(executor_id, 4_000, 1_200)
    compose = usd(orchestrator_id, context_tokens + 600 * n_tasks, 600 + reasoning_tokens)
    return per_task * n_tasks + compose
