"""Every model call goes through here: events, cost, budget, caps and cancellation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..core.cancel import CancelToken, OperationCancelled
from ..core.errors import MiraError
from ..core.events import (
    Cost,
    LLMCallFinished,
    LLMCallStarted,
    Notice,
    ReasoningSummary,
    Role,
    TextDelta,
    Usage,
    utcnow,
)
from ..core.ids import new_id
from ..llm.capabilities import output_token_cap
from ..llm.types import ChatModel, ChatResponse, Message, ModelCallCancelled, ModelError
from .bus import EventBus


class BudgetExceeded(MiraError):
    """The next call could overspend the budget; the operation stops cleanly."""


class CapReached(MiraError):
    """A loop or token cap was hit; the step ends with this message."""


class SessionSpend:
    """What the whole session has spent, charged call by call (operations may overlap)."""

    def __init__(self, cap: Decimal | None = None) -> None:
        self.cap = cap
        self._spent = Decimal(0)
        self._lock = threading.Lock()

    @property
    def spent(self) -> Decimal:
        with self._lock:
            return self._spent

    def charge(self, amount: Decimal) -> None:
        """Add one call's cost."""
        with self._lock:
            self._spent += amount


@dataclass
class Ledger:
    """Running usage and cost of one operation, split by role."""

    usage: dict[str, Usage] = field(default_factory=dict)
    cost: dict[str, Cost] = field(default_factory=dict)
    routing_savings_usd: Decimal = Decimal(0)
    calls: int = 0

    def add(self, role: str, usage: Usage, cost: Cost, savings: Decimal) -> None:
        """Account one finished call."""
        self.usage[role] = self.usage.get(role, Usage()) + usage
        self.cost[role] = self.cost.get(role, Cost()) + cost
        self.routing_savings_usd += savings
        self.calls += 1

    @property
    def total_usage(self) -> Usage:
        return sum(self.usage.values(), Usage())

    @property
    def total_cost(self) -> Cost:
        return sum(self.cost.values(), Cost())

    @property
    def spent_usd(self) -> Decimal:
        return self.total_cost.total_usd


@dataclass
class CallRunner:
    """Runs model calls for one operation and reports each as events."""

    operation_id: str
    bus: EventBus
    cancel: CancelToken
    models: dict[Role, ChatModel]
    ledger: Ledger
    budget_usd: Decimal | None = None
    max_total_tokens: int = 600_000
    output_reserve_tokens: int = 1_024
    max_output_tokens: int | None = None  # Mira.max_output_tokens: the cap of every call
    pricing: Any = None  # module with cost_of / estimate_cost; injected for tests
    tokens: Any = None  # module with count_message_tokens
    last_call_id: str | None = None
    session: SessionSpend | None = None  # shared by every operation of the session

    def __post_init__(self) -> None:
        if self.pricing is None:
            from ..llm import pricing

            self.pricing = pricing
        if self.tokens is None:
            from ..llm import tokens

            self.tokens = tokens

    def call(
        self,
        role: Role,
        messages: list[Message],
        *,
        purpose: str,
        tools: list[dict[str, Any]] | None = None,
        reasoning: str | None = None,
        task_id: str | None = None,
        stream_channel: Literal["answer", "plan"] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResponse:
        """One model call with budget and cap checks; raises on failure or cancel."""
        self.cancel.raise_if_cancelled()
        model = self.models[role]
        effort = reasoning if reasoning and model.supports_reasoning_effort() else None
        max_tokens = output_token_cap(
            model.model_id, purpose, reasoning_effort=effort, configured=self.max_output_tokens
        )
        affordable = self._check_caps(model, messages, tools)
        if affordable is not None:
            max_tokens = min(max_tokens, affordable)
        call_id = new_id("call")
        self.last_call_id = call_id
        started = utcnow()
        self.bus.emit(
            LLMCallStarted(
                operation_id=self.operation_id,
                call_id=call_id,
                task_id=task_id,
                role=role,
                provider=model.provider,
                model=model.model,
                reasoning_effort=effort,
                purpose=purpose,
            )
        )

        def handle_text(delta: str) -> None:
            if stream_channel:
                self.bus.emit(
                    TextDelta(operation_id=self.operation_id, text=delta, channel=stream_channel)
                )
            if on_text:
                on_text(delta)

        clock = time.perf_counter()
        finished = dict(
            operation_id=self.operation_id,
            call_id=call_id,
            task_id=task_id,
            role=role,
            provider=model.provider,
            model=model.model,
            reasoning_effort=effort,
            purpose=purpose,
            started_at=started,
        )
        try:
            response = model.chat(
                messages,
                tools=tools,
                reasoning_effort=effort,
                on_text=handle_text,
                cancel=self.cancel,
                max_tokens=max_tokens,
            )
        except ModelCallCancelled as exc:
            self._finish(finished, exc.usage, clock, status="cancelled", error=str(exc))
            raise OperationCancelled(self.cancel.reason) from exc
        except ModelError as exc:
            self._finish(finished, exc.usage, clock, status="error", error=str(exc))
            raise
        if response.reasoning_summary:
            self.bus.emit(
                ReasoningSummary(
                    operation_id=self.operation_id,
                    call_id=call_id,
                    task_id=task_id,
                    role=role,
                    purpose=purpose,
                    text=response.reasoning_summary,
                )
            )
        self._finish(
            finished,
            response.usage,
            clock,
            latency_ms=response.latency_ms,
            ttft_ms=response.ttft_ms,
            finish_reason=response.finish_reason,
        )
        if response.finish_reason == "length":
            cut = "; the answer is truncated" if stream_channel == "answer" else ""
            self.bus.emit(
                Notice(
                    operation_id=self.operation_id,
                    level="warning",
                    message=f"{role} call ({purpose}) stopped at its output cap of {max_tokens:,} "
                    f"tokens{cut} (Mira.max_output_tokens raises it)",
                )
            )
        return response

    def _finish(
        self,
        fields: dict[str, Any],
        usage: Usage,
        clock: float,
        *,
        status: Literal["ok", "error", "cancelled"] = "ok",
        error: str | None = None,
        latency_ms: float | None = None,
        ttft_ms: float | None = None,
        finish_reason: str | None = None,
    ) -> None:
        model_id = f"{fields['provider']}:{fields['model']}"
        cost = self.pricing.cost_of(usage, model_id)
        savings = Decimal(0)
        equivalent = None
        if fields["role"] == "executor":
            orchestrator = self.models["orchestrator"]
            equivalent = self.pricing.cost_of(usage, orchestrator.model_id).total_usd
            savings = equivalent - cost.total_usd
        self.ledger.add(fields["role"], usage, cost, savings)
        if self.session is not None:
            self.session.charge(cost.total_usd)
        self.bus.emit(
            LLMCallFinished(
                **fields,
                latency_ms=latency_ms if latency_ms is not None else (time.perf_counter() - clock) * 1000,
                ttft_ms=ttft_ms,
                usage=usage,
                cost=cost,
                orchestrator_equivalent_usd=equivalent,
                finish_reason=finish_reason,
                status=status,
                error=error,
            )
        )

    def _check_caps(
        self, model: ChatModel, messages: list[Message], tools: list[dict[str, Any]] | None
    ) -> int | None:
        """Raise if a cap would be crossed; returns the output-token limit the budget allows."""
        used = self.ledger.total_usage
        if used.input_tokens + used.output_tokens >= self.max_total_tokens:
            raise CapReached(
                f"token cap reached: {used.input_tokens + used.output_tokens:,} tokens used "
                f"(limit {self.max_total_tokens:,})"
            )
        caps = []  # (what, cap, spent so far)
        if self.budget_usd is not None:
            caps.append(("budget", self.budget_usd, self.ledger.spent_usd))
        if self.session is not None and self.session.cap is not None:
            caps.append(("session budget", self.session.cap, self.session.spent))
        if not caps:
            return None
        prompt_tokens = self.tokens.count_message_tokens(messages)
        if tools:
            prompt_tokens += self.tokens.count_tokens(json.dumps(tools))
        estimate = self.pricing.estimate_cost(
            model.model_id, prompt_tokens, self.output_reserve_tokens
        ).total_usd
        for what, cap, spent in caps:
            if spent + estimate > cap:
                raise BudgetExceeded(
                    f"{what} ${cap:.4f} would be exceeded: spent ${spent:.4f}, "
                    f"next {model.model_id} call estimated at ${estimate:.4f} "
                    f"({prompt_tokens:,} input + {self.output_reserve_tokens:,} output tokens)"
                )
        # the reply may use what is left after the input, and not a token more
        per_output_token = self.pricing.estimate_cost(model.model_id, 0, 1_000_000).total_usd / 1_000_000
        if per_output_token <= 0:
            return None  # unpriced model: nothing to cap by
        input_cost = self.pricing.estimate_cost(model.model_id, prompt_tokens, 0).total_usd
        left = min(cap - spent for _, cap, spent in caps) - input_cost
        return max(self.output_reserve_tokens, int(left / per_output_token))
