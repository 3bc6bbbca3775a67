"""The engine: one request in, events out, an `Operation` back. Knows nothing of Jupyter."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ..core.cancel import CancelToken, OperationCancelled
from ..core.codeblocks import code_blocks
from ..core.events import (
    PLAN_ONLY_NOTICE,
    ModeChanged,
    Notice,
    OperationFinished,
    OperationResumed,
    OperationStarted,
    OperationStatus,
    PlanGenerated,
    utcnow,
)
from ..core.ids import new_id
from ..core.unicode import valid_unicode
from ..llm.errors import may_fall_back
from ..llm.types import ChatModel, ModelError
from . import prompts
from .budget import OperationBudget
from .bus import EventBus
from .calls import BudgetExceeded, CallRunner, CapReached, Ledger, SessionSpend, UnpricedModel
from .conversation import Conversation, HistoryWindow, turn_of
from .dispatch import ToolDispatcher
from .metatools import orchestrator_tools
from .outcome import AnswerCollector, answer_text
from .output_cap import output_allowance
from .planner import Plan, estimate_plan_cost, make_plan
from .prompt_bound import ProviderCounts
from .result import Operation, format_usd
from .run import OperationRun
from .settings import EngineSettings, check_budget
from .tasks import TaskTracker

log = logging.getLogger(__name__)

ModelFactory = Callable[[str, EngineSettings], ChatModel]

_SETTLE_REASONS = {
    "cancelled": "cancelled by user",
    "budget_exceeded": "stopped: budget exceeded",
    "failed": "operation failed before this task finished",
    "completed": "not reached",
}


@dataclass
class RunOptions:
    """Per-request options (the ``%%mira`` flags)."""

    mode: Literal["auto", "simple", "planned"] = "auto"
    skill: str | None = None
    reasoning: str | None = None  # overrides the per-phase defaults
    budget_usd: Decimal | None = None
    plan_only: bool = False
    orchestrator_model: str | None = None
    new_conversation: bool = False  # start a fresh conversation with this request
    approve: str | None = None  # overrides Mira.approve for this request (``--approve``)

    def __post_init__(self) -> None:
        # library callers reach here without the magics' parser: a bad value is one clear
        # ValueError now, not an "internal error" from inside a running operation
        if self.mode not in ("auto", "simple", "planned"):
            raise ValueError(f"mode must be auto, simple or planned, got {self.mode!r}")
        if self.reasoning is not None:
            from ..llm.capabilities import normalize_effort

            normalize_effort(self.reasoning)
        if self.budget_usd is not None and not isinstance(self.budget_usd, Decimal):
            if isinstance(self.budget_usd, bool) or not isinstance(self.budget_usd, int | float | str):
                raise ValueError(f"budget_usd must be an amount in USD, got {self.budget_usd!r}")
            try:
                self.budget_usd = Decimal(str(self.budget_usd).strip().lstrip("$"))
            except ArithmeticError:
                raise ValueError(f"budget_usd must be an amount in USD, got {self.budget_usd!r}") from None
        if self.budget_usd is not None:
            check_budget(self.budget_usd, "budget_usd")
        if self.approve is not None:
            from .approval_policy import parse_approve

            parse_approve(self.approve, "--approve")


def _default_model_factory(model_id: str, settings: EngineSettings) -> ChatModel:
    from ..llm.providers import build_chat_model

    provider_settings = {**settings.provider_settings, "request_timeout": settings.request_timeout}
    return build_chat_model(model_id, settings=provider_settings)


class Engine:
    """Runs operations; keeps the session's spend and the last operations in memory."""

    def __init__(
        self,
        settings: EngineSettings,
        bus: EventBus | None = None,
        *,
        model_factory: ModelFactory | None = None,
        skills: Any = None,
        session_id: str | None = None,
        keep_operations: int = 50,
        approvals: Any = None,
    ) -> None:
        self.settings = settings
        self.bus = bus or EventBus()
        self.model_factory = model_factory or _default_model_factory
        self._skills = skills
        self.session_id = session_id or new_id("sess")
        self.spend = SessionSpend(settings.budget_usd)
        self.token_counts = ProviderCounts()  # what providers counted of the session's prompts
        self.operations: dict[str, Operation] = {}
        self._plans: dict[str, tuple[Plan | None, list[Any], str, RunOptions]] = {}
        self._keep = keep_operations
        self._lock = threading.Lock()
        self._said_commands = False  # the one notice saying why commands are not offered
        self._said_skills: set[str] = set()  # skill files whose refusal a notice has said
        # set by the session: the scratch kernel host (run_code) and, in IPython, the
        # user's namespace (inspect_variable); None where there is none
        self.scratch: Any = None
        self.user_namespace: Any = None
        self.conversation = Conversation()
        from .approvals import Approvals

        # the questions waiting for the user; the session's views answer them
        self.approvals = approvals if approvals is not None else Approvals()

    # -- public API ----------------------------------------------------------------------

    @property
    def prices(self) -> Any:
        """The price table as the file is now: an edited price file is read again (the
        table is cached per file state, so this is a stat when nothing changed)."""
        from ..llm.pricing import load_prices

        return load_prices(self.settings.prices_file)

    @property
    def skills(self) -> Any:
        """The skill registry, discovered on first use."""
        if self._skills is None:
            from ..skills import SkillRegistry
            from .metatools import DELEGATION_TOOLS, META_TOOLS

            self._skills = SkillRegistry.discover(
                self.settings.project_root,
                user_dir=self.settings.user_skills_dir,
                known_tools=set(META_TOOLS | DELEGATION_TOOLS),
            )
        return self._skills

    def reset_conversation(self) -> str:
        """Start a new conversation for the operations that follow; returns its id."""
        self.conversation = Conversation()
        return self.conversation.id

    def history_window(self, exclude: str | None = None) -> HistoryWindow:
        """What the next operation would carry of the current conversation."""
        return self.conversation.window(self.settings.history_tokens, exclude=exclude)

    def run(
        self,
        request: str,
        options: RunOptions | None = None,
        cancel: CancelToken | None = None,
        operation_id: str | None = None,
    ) -> Operation:
        """Run one request to the end (or to cancel, failure or budget) and return it."""
        options = options or RunOptions()
        cancel = cancel or CancelToken()
        op_id = operation_id or new_id("op")
        # a lone surrogate (a file name from os.listdir) would fail every view, the log and
        # the provider's JSON: it is spelled as its escape, once, here
        request = valid_unicode(request)
        complexity = self._score(request)
        if options.skill:
            mode = "skill"
        elif options.mode != "auto":
            mode = options.mode
        else:
            mode = "simple" if complexity.simple and not options.plan_only else "planned"
        if options.plan_only and mode != "planned":
            raise ValueError("--plan-only needs the planned path (not --skill or --mode simple)")
        orchestrator_id = options.orchestrator_model or self.settings.orchestrator_model
        budget = self._budget_for(options)
        if options.new_conversation:
            self.reset_conversation()
        conversation = self.conversation
        window = conversation.window(self.settings.history_tokens)
        self.bus.emit(
            OperationStarted(
                operation_id=op_id,
                session_id=self.session_id,
                request=request,
                mode=mode,
                requested_mode=options.mode,
                skill=options.skill,
                reasoning=options.reasoning,
                orchestrator_model=orchestrator_id,
                executor_model=self.settings.executor_model,
                project_root=str(self.settings.project_root),
                complexity_score=complexity.score,
                complexity_reasons=list(complexity.reasons),
                budget_usd=budget,
                plan_only=options.plan_only,
                conversation_id=conversation.id,
                parent_operation_id=window.parent_operation_id,
                history_turns=len(window.turns),
                history_dropped=window.dropped,
                history_tokens=window.tokens,
            )
        )
        op = Operation(
            id=op_id,
            request=request,
            mode=mode,
            status="running",
            complexity_score=complexity.score,
            complexity_reasons=list(complexity.reasons),
            skill=options.skill,
            models={"orchestrator": orchestrator_id, "executor": self.settings.executor_model},
            conversation_id=conversation.id,
            parent_operation_id=window.parent_operation_id,
            history_turns=len(window.turns),
            history_dropped=window.dropped,
        )
        return self._drive(
            op, options, cancel, budget, lambda run: self._dispatch_mode(run, op, options),
            conversation, window,
        )

    def resume(self, operation_id: str, cancel: CancelToken | None = None, budget_usd: Decimal | None = None) -> Operation:
        """Run the plan of a plan-only operation of this session (the same operation goes on)."""
        if operation_id not in self._plans:
            raise KeyError(f"no plan-only operation {operation_id} in this session")
        plan, tasks, request, options = self._plans[operation_id]
        # the plan's own --budget holds unless the run is given another one; a bad one fails
        # here, before the plan is taken or the operation marked running
        budget = options.budget_usd if budget_usd is None else budget_usd
        options = RunOptions(**{**options.__dict__, "plan_only": False, "budget_usd": budget})
        del self._plans[operation_id]
        op = self.operations[operation_id]
        op.status = "running"
        cancel = cancel or CancelToken()
        budget = self._budget_for(options)
        self.bus.emit(OperationResumed(operation_id=operation_id, budget_usd=budget))
        # the plan carries on in its own conversation (unless that was reset meanwhile)
        conversation = self.conversation if op.conversation_id == self.conversation.id else None
        window = conversation.window(self.settings.history_tokens, exclude=op.id) if conversation else None

        def body(run: OperationRun) -> str:
            run.tracker.tasks = tasks
            return self._execute_plan(run, request, options, plan)

        return self._drive(op, options, cancel, budget, body, conversation, window)

    def planned_operations(self) -> list[str]:
        """Ids of plan-only operations that can still be run."""
        return list(self._plans)

    def carry_over(self, previous: Engine) -> None:
        """Continue the session of `previous` (the configuration changed): what it spent,
        its operations, the plans still waiting for their Run and the conversation."""
        # one session, one ledger: in-flight reservations and spend carry over
        previous.spend.cap = self.spend.cap
        self.spend = previous.spend
        self.operations = previous.operations
        self._plans = previous._plans
        self.conversation = previous.conversation
        self.scratch = self.scratch or previous.scratch  # the warm scratch kernel goes on
        self.user_namespace = self.user_namespace or previous.user_namespace
        self.approvals = previous.approvals

    # -- lifecycle -----------------------------------------------------------------------

    def _drive(
        self,
        op: Operation,
        options: RunOptions,
        cancel: CancelToken,
        budget: Decimal | None,
        body: Callable[[OperationRun], str],
        conversation: Conversation | None = None,
        window: HistoryWindow | None = None,
    ) -> Operation:
        answer = AnswerCollector(op.id)
        unsubscribe = self.bus.subscribe(answer)
        ledger = Ledger()
        run: OperationRun | None = None
        status: OperationStatus = "completed"
        error: str | None = None
        try:
            run = self._new_run(op, options, cancel, ledger, budget)
            self._check_prices(op, budget, run.calls.prices)
            run.history = window.messages() if window is not None else []
            body(run)
            if run.stopped_at_plan:
                status = "planned"
            elif run.tracker.tasks and all(t.status == "failed" for t in run.tracker.tasks):
                # an answer was written, but no task got done: the operation did not succeed
                first = run.tracker.tasks[0]
                status, error = "failed", f"no task succeeded (task 1: {first.error})"[:600]
        except UnpricedModel as exc:
            status, error = "failed", str(exc)
        except OperationCancelled:
            status, error = "cancelled", cancel.reason
        except BudgetExceeded as exc:
            status, error = "budget_exceeded", str(exc)
        except (CapReached, ModelError) as exc:
            status, error = "failed", str(exc)
        except Exception as exc:
            log.exception("operation %s failed", op.id)
            status, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            unsubscribe()
        if status != "planned":
            # a resumed plan whose run could not even be set up still settles its tasks
            tracker = run.tracker if run is not None else TaskTracker(op.id, self.bus)
            if run is None:
                tracker.tasks = [t for t in op.tasks if t.status in ("pending", "in_progress")]
            tracker.settle(_SETTLE_REASONS.get(status, status))
        # the error is said once, by OperationFinished: every view shows it from there
        text, partial = answer.result(status)
        op.status, op.error, op.text = status, error, text
        op.partial, op.truncated = partial, answer.truncated and not partial
        op.truncated_by = answer.cut_by if op.truncated else ""
        op.code = code_blocks(text)
        op.usage, op.cost = op.usage + ledger.total_usage, op.cost + ledger.total_cost
        for role, usage in ledger.usage.items():
            op.usage_by_role[role] = op.usage_by_role.get(role, type(usage)()) + usage
        for role, cost in ledger.cost.items():
            op.cost_by_role[role] = op.cost_by_role.get(role, type(cost)()) + cost
        op.routing_savings_usd += ledger.routing_savings_usd
        if run is not None:
            op.tasks = list(run.tracker.tasks)
            op.file_changes += run.file_changes
        if conversation is not None:
            # every ending is carried: failed and cancelled turns say so
            conversation.record(turn_of(op))
        self.bus.emit(
            OperationFinished(
                operation_id=op.id,
                status=status,
                result_text=text,
                result_partial=op.partial,
                result_truncated=op.truncated,
                result_cut_by=op.truncated_by,
                error=error,
                usage=op.usage,
                cost=op.cost,
                routing_savings_usd=op.routing_savings_usd,
                skills=list(run.skills_used) if run is not None else [],
            )
        )
        self._remember(op)
        return op

    def _new_run(
        self, op: Operation, options: RunOptions, cancel: CancelToken, ledger: Ledger, budget: Decimal | None
    ) -> OperationRun:
        from ..tools.policy import Limits
        from ..tools.registry import file_tools
        from ..tools.roots import protected_paths
        from ..tools.sandbox import Sandbox
        from .instructions import load_instructions
        from .settings import default_user_skills_dir

        settings = self.settings
        models = {role: self._model(op.models[role]) for role in ("orchestrator", "executor")}
        # the directory skills are loaded from is protected even when none was configured
        protected = protected_paths(
            settings.database, settings.user_skills_dir or default_user_skills_dir()
        )
        # read_file's own caps (with "continue at line N" hints) sit below the engine's
        # result cap, so the model is told how to read on rather than just cut off
        limits = Limits(max_read_bytes=max(2_000, settings.max_tool_result_chars - 4_000), max_lines=400)
        calls = CallRunner(
            operation_id=op.id,
            bus=self.bus,
            cancel=cancel,
            models=models,
            ledger=ledger,
            budget_usd=budget,
            max_total_tokens=settings.max_total_tokens,
            session=self.spend,
            token_counts=self.token_counts,
            output_reserve_tokens=settings.output_reserve_tokens,
            max_output_tokens=settings.max_output_tokens,
            prices=self._operation_prices(),
            # plan-only and its run are one operation with one budget: what the plan spent counts
            budget=OperationBudget(budget, self.spend, spent=op.cost.most_usd),
            allow_unpriced=settings.allow_unpriced,
        )
        sandbox = Sandbox(settings.project_root, protected=protected, limits=limits)
        from .approval_policy import parse_approve
        from .approvals import ApprovalGate

        gate = ApprovalGate(
            op.id,
            parse_approve(options.approve or settings.approve, "--approve" if options.approve else "Mira.approve"),
            self.approvals,
            self.bus,
            cancel,
            # a resumed plan's planning cost counts: one operation, one cost so far
            cost_so_far=lambda spent=op.cost.total_usd: spent + ledger.spent_usd,
            timeout=settings.approve_timeout,
        )
        commands = self._command_settings(op.id)
        tools = file_tools()
        orch_tools = orchestrator_tools()
        if commands is not None:
            from ..tools.commands import command_tool

            tools["run_command"] = command_tool()
            if "python" in commands.allowed and self.scratch is not None:
                from ..tools.run_code import code_tool

                tools["run_code"] = orch_tools["run_code"] = code_tool()
        if self.user_namespace is not None:
            from ..tools.inspect_variable import inspect_tool

            orch_tools["inspect_variable"] = inspect_tool()
        return OperationRun(
            operation_id=op.id,
            request=op.request,
            bus=self.bus,
            cancel=cancel,
            calls=calls,
            dispatcher=ToolDispatcher(op.id, self.bus, settings.max_tool_result_chars),
            tracker=TaskTracker(op.id, self.bus),
            sandbox=sandbox,
            file_tools=tools,
            commands=commands,
            scratch=self.scratch if "run_code" in tools else None,
            namespace=self.user_namespace,
            approval=gate,
            orch_tools=orch_tools,
            skills=self._skills_or_none(op.id),
            project_name=settings.project_root.name or ".",
            max_orchestrator_turns=settings.max_orchestrator_turns,
            max_executor_turns=settings.max_executor_turns,
            max_parallel=settings.max_parallel,
            reasoning_execution=options.reasoning or settings.reasoning_execution,
            repo_map_tokens=settings.repo_map_tokens,
            # read once per operation: every prompt of it carries the same text (prefix caches)
            instructions=load_instructions(sandbox, settings.instructions_tokens),
        )

    def _command_settings(self, operation_id: str) -> Any:
        """What sandboxed commands may run, or None (and one notice per session) when
        bubblewrap cannot confine them here: there is no silent unsandboxed fallback, only
        the explicit opt-out Mira.allow_unsandboxed_commands, warned every operation."""
        if not self.settings.commands:
            return None
        from ..tools.bwrap import unavailable_reason
        from ..tools.commands import UNSANDBOXED_WARNING, CommandSettings

        reason = unavailable_reason()
        allowed = frozenset(self.settings.commands)
        if reason is not None and self.settings.allow_unsandboxed_commands:
            self.bus.emit(
                Notice(operation_id=operation_id, level="warning", message=UNSANDBOXED_WARNING.format(reason=reason))
            )
            return CommandSettings(allowed=allowed, unsandboxed=True)
        if reason is not None:
            if not self._said_commands:
                self._said_commands = True
                self.bus.emit(
                    Notice(
                        operation_id=operation_id,
                        level="warning",
                        message=f"run_tests and run_code are not offered: {reason}",
                    )
                )
            return None
        return CommandSettings(allowed=allowed)

    def _model(self, model_id: str) -> ChatModel:
        try:
            return self.model_factory(model_id, self.settings)
        except ValueError as exc:  # a malformed id or setting: one line, not a traceback
            raise ModelError(str(exc)) from None

    def _models_called(self, op: Operation) -> list[str]:
        """The models this operation may call: both, since simple mode can fall back."""
        return list(dict.fromkeys([op.models["orchestrator"], op.models["executor"]]))

    def _operation_prices(self) -> Any:
        """The price table one operation is priced with, read as the file is when it starts."""
        try:
            return self.prices
        except ValueError as exc:  # a price file broken since the engine was made: one line
            raise ModelError(str(exc)) from None

    def _check_prices(self, op: Operation, budget: Decimal | None, prices: Any) -> None:
        """Refuse before the first call when an unpriced model would run under a budget."""
        unpriced = [m for m in self._models_called(op) if not prices.is_priced(m)]
        if not unpriced:
            return
        from ..llm.pricing import PRICE_HELP, unpriced_message

        limited = budget is not None or self.spend.cap is not None
        if limited and not self.settings.allow_unpriced:
            raise UnpricedModel(unpriced_message(unpriced[0]))
        names = ", ".join(unpriced)
        if limited:
            message = (
                f"{names} has no price: its calls are NOT counted against the budget "
                f"(Mira.allow_unpriced is on); {PRICE_HELP}"
            )
        else:
            message = f"{names} has no price: its calls show as unpriced; {PRICE_HELP}"
        self.bus.emit(Notice(operation_id=op.id, level="warning", message=message))

    # -- modes ---------------------------------------------------------------------------

    def _dispatch_mode(self, run: OperationRun, op: Operation, options: RunOptions) -> str:
        if op.mode == "skill":
            return self._run_skill_mode(run, op, options)
        if op.mode == "simple":
            try:
                return self._run_simple(run, options)
            except ModelError as exc:
                if options.mode != "auto" or not may_fall_back(exc):
                    raise  # the same request on another path would fail the same way
                return self._fall_back(run, op, options, exc)
        return self._run_planned(run, op, options)

    def _fall_back(self, run: OperationRun, op: Operation, options: RunOptions, first: ModelError) -> str:
        """Redo a simple request whose answer broke off on the planned path."""
        op.mode = "planned"
        self.bus.emit(
            ModeChanged(
                operation_id=op.id,
                mode="planned",
                reason=f"simple mode failed ({first.kind.replace('_', ' ')} after the answer had "
                "begun); continuing on the full path",
            )
        )
        try:
            return self._run_planned(run, op, options)
        except ModelError as second:
            # the first failure is the real one; the second is only what the retry ran into
            raise ModelError(
                f"{first} (the full path then failed too: {second})", attempts=first.attempts
            ) from first

    def _run_simple(self, run: OperationRun, options: RunOptions) -> str:
        # the orchestrator's stable prefix (system prompt, tools, earlier turns), then the
        # request, then this mode's instruction with the snapshot ranked for the request
        messages = [
            {"role": "system", "content": self._orchestrator_system(run)},
            *run.history,
            {"role": "user", "content": run.request},
            {"role": "user", "content": prompts.SIMPLE.format(snapshot=run.snapshot())},
        ]
        return self._answer(
            run,
            messages,
            reasoning=options.reasoning or self.settings.reasoning_simple,
            purpose="simple",
        )

    def _answer(self, run: OperationRun, messages: list[dict[str, Any]], **call: Any) -> str:
        """An answering call: the orchestrator's one tool list with ``tool_choice`` "none".
        A server that ignores tool_choice (or a model that takes none) may call a tool
        anyway: the call is answered as not run and the model asked once more for text."""
        tools = run.orchestrator_schemas()  # the same list as every other call: no tools used
        kwargs = dict(tools=tools, tool_choice="none", stream_channel="answer", **call)
        response = run.calls.call("orchestrator", messages, **kwargs)
        if not response.text.strip() and response.tool_calls:
            retry = [
                *messages,
                response.assistant_message(),
                *(
                    {"role": "tool", "tool_call_id": c.id, "content": prompts.NO_TOOLS_NOW}
                    for c in response.tool_calls
                ),
                {"role": "user", "content": prompts.NO_TOOLS_NOW},
            ]
            response = run.calls.call("orchestrator", retry, **kwargs)
        return answer_text(response, run.calls.models["orchestrator"].model_id)

    def _run_planned(self, run: OperationRun, op: Operation, options: RunOptions) -> str:
        system = self._orchestrator_system(run)
        started = utcnow()
        plan = make_plan(
            run.calls,
            system,
            run.request,
            options.reasoning or self.settings.reasoning_planning,
            context=run.snapshot(),
            history=run.history,
            tools=run.orchestrator_schemas(),
        )
        tasks = plan.tasks or []
        source = plan.source
        for repair in plan.repairs:  # each fix to the plan is said, and the log keeps it
            self.bus.emit(Notice(operation_id=op.id, level="warning", message=f"plan repaired: {repair}"))
        if not tasks:
            from .planner import PlannedTask

            source = "fallback"
            self.bus.emit(
                Notice(
                    operation_id=op.id,
                    level="warning",
                    message="no usable plan came back: the request runs as one generic task",
                )
            )
            tasks = [PlannedTask(description="Carry out the request", active_form="Carrying out the request")]
        from ..llm import pricing, tokens

        estimate = estimate_plan_cost(
            pricing,
            op.models["orchestrator"],
            op.models["executor"],
            len(tasks),
            tokens.count_tokens(system) + tokens.count_tokens(run.request),
            prices=run.calls.prices,
            reasoning_tokens=output_allowance(
                run.calls.models["orchestrator"],
                options.reasoning or self.settings.reasoning_execution,
                visible_tokens=0,
            ),
        )
        if not all(run.calls.prices.is_priced(m) for m in self._models_called(op)):
            estimate = None  # an unpriced model makes any estimate a guess: say so, not $0
        usage = plan.response.usage
        self.bus.emit(
            PlanGenerated(
                operation_id=op.id,
                plan_text="\n".join(f"{i}. {t.description}" for i, t in enumerate(tasks, 1)),
                source=source,
                tasks_planned=len(tasks),
                started_at=started,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                estimated_cost_usd=estimate,
            )
        )
        op.plan = [t.description for t in tasks]
        op.estimated_cost_usd = estimate
        for task in tasks:
            run.tracker.create(
                task.description, task.active_form, depends_on=task.depends_on, reads_only=task.reads_only
            )
        if options.plan_only:
            op.tasks = list(run.tracker.tasks)
            self._plans[op.id] = (plan, run.tracker.tasks, run.request, options)
            self.bus.emit(
                Notice(
                    operation_id=op.id,
                    message=PLAN_ONLY_NOTICE
                    + "running it is estimated at about "
                    + (format_usd(estimate) if estimate is not None else "an unknown cost (unpriced model)")
                    + f" (%mira run {op.id})",
                )
            )
            run.stopped_at_plan = True
            return ""
        return self._execute_plan(run, run.request, options, plan)

    def _execute_plan(
        self, run: OperationRun, request: str, options: RunOptions, plan: Plan | None = None
    ) -> str:
        system = self._orchestrator_system(run)
        plan_text = "\n".join(f"{t.sequence}. {t.description}" for t in run.tracker.tasks)
        reply = plan.response if plan is not None else None
        if reply is not None:
            # execution goes on from the planning conversation as sent: the requests share
            # its whole prefix (provider caches reuse it), and the Responses API keeps the
            # planning reasoning there
            messages = [
                {"role": "system", "content": system},
                *run.history,
                {"role": "user", "content": request},
                # the planning turn exactly as sent, so the conversation continues from it
                {"role": "user", "content": plan.prompt or prompts.PLANNER},
                reply.assistant_message(),
                *self._planning_answers(run, reply, plan_text),
            ]
        else:
            messages = [
                {"role": "system", "content": system},
                *run.history,
                {"role": "user", "content": request},
                {"role": "assistant", "content": f"Plan:\n{plan_text}"},
            ]
        allowed = set(run.orch_tools)
        if run.skills is None or not run.skills.list():
            allowed.discard("activate_skill")
        if run.commands is None:
            allowed.discard("run_tests")
        run.execute_tasks(messages, allowed)
        messages.append({"role": "user", "content": prompts.COMPOSE.format(checklist=run.tracker.checklist())})
        return self._compose(run, messages, options)

    def _planning_answers(self, run: OperationRun, reply: Any, plan_text: str) -> list[dict[str, Any]]:
        """The tool messages answering the planning reply's calls: submit_plan's is the plan
        as recorded; any other call goes through the one dispatcher with only the planning
        tools offered, so it is logged and the model is told it was not run."""
        from .planner import PLANNING_TOOLS

        answers = []
        for call in reply.tool_calls:
            if call.name == "submit_plan":
                text = f"Plan recorded:\n{plan_text}"
            else:
                _, text = run.dispatcher.run(
                    call, PLANNING_TOOLS, run.tool_context(), role="orchestrator", allowed=set(PLANNING_TOOLS)
                )
            answers.append({"role": "tool", "tool_call_id": call.id, "content": text})
        return answers

    def _compose(
        self, run: OperationRun, messages: list[dict[str, Any]], options: RunOptions, skill: str | None = None
    ) -> str:
        """The orchestrator writes the final answer, streamed into the cell."""
        return self._answer(
            run,
            messages,
            reasoning=options.reasoning or self.settings.reasoning_execution,
            purpose="compose",
            skill=skill,
        )

    def _run_skill_mode(self, run: OperationRun, op: Operation, options: RunOptions) -> str:
        if run.skills is None or run.skills.get(options.skill) is None:
            why = getattr(run.skills, "why_missing", lambda _name: None)(options.skill)
            if why is not None:
                raise ModelError(f"skill {options.skill!r} did not load: {why}")
            names = ", ".join(s.name for s in run.skills.list()) if run.skills else "none"
            raise ModelError(f"unknown skill {options.skill!r}; available skills: {names}")
        report = run.run_skill(options.skill, run.request)
        messages = [
            {"role": "system", "content": self._orchestrator_system(run)},
            *run.history,
            {"role": "user", "content": run.request},
            {"role": "user", "content": prompts.SKILL_COMPOSE.format(skill=options.skill, report=report)},
        ]
        return self._compose(run, messages, options, skill=options.skill)

    # -- helpers -------------------------------------------------------------------------

    def _score(self, request: str) -> Any:
        from .complexity import score_request

        return score_request(request, threshold=self.settings.simple_threshold)

    @property
    def session_spent_usd(self) -> Decimal:
        """What every operation of this session has spent so far."""
        return self.spend.spent

    def _budget_for(self, options: RunOptions) -> Decimal | None:
        """The operation's own cap (the session cap is checked call by call, shared)."""
        if options.budget_usd is not None:
            check_budget(Decimal(options.budget_usd), "budget_usd")
        return options.budget_usd

    def _skills_or_none(self, operation_id: str) -> Any:
        try:
            if self._skills is not None:
                # skills written since the last operation are picked up (a few small files)
                self._skills.reload()
            registry = self.skills
        except Exception:  # a broken skills directory must not stop operations
            log.exception("skill discovery failed")
            return None
        # a refused skill file (an unknown tool in allowed_tools, bad YAML) is said once per
        # session: otherwise it only vanishes from the catalogue
        for problem in getattr(registry, "refusals", list)():
            text = str(problem).removeprefix("error: ")
            if text not in self._said_skills:
                self._said_skills.add(text)
                self.bus.emit(
                    Notice(operation_id=operation_id, level="warning", message=f"skill not loaded: {text}")
                )
        return registry

    def _orchestrator_system(self, run: OperationRun) -> str:
        catalog = run.skills.catalog() if run.skills is not None else ""
        return prompts.ORCHESTRATOR.format(
            project_root=run.project_name,
            instructions=run.instructions.prompt_block(),
            skill_catalog=catalog or "(none)",
        )

    def _remember(self, op: Operation) -> None:
        with self._lock:
            self.operations[op.id] = op
            while len(self.operations) > self._keep:
                oldest = next(iter(self.operations))
                if oldest in self._plans:
                    break
                del self.operations[oldest]
