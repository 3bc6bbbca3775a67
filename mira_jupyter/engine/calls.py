"""Every model call goes through here: events, cost, budget, caps and cancellation."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..core.cancel import CancelToken, OperationCancelled
from ..core.errors import OperationEnding
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
from ..core.money import usd
from ..llm.capabilities import (
    normalize_effort,
    output_token_cap,
    refuses_tool_choice,
    takes_tool_choice,
)
from ..llm.types import (
    RETRY_GATE,
    ChatModel,
    ChatResponse,
    Message,
    ModelCallCancelled,
    ModelError,
    RequestRejectedError,
    RetryRefused,
)
from .budget import DEFAULT_INPUT_MARGIN, BudgetExceeded, OperationBudget, Reservation, SessionSpend
from .bus import EventBus
from .call_bound import InFlight, bounded, cap_tokens, reports_no_usage
from .output_cap import output_allowance
from .prompt_bound import ProviderCounts, prompt_shape
from .token_cap import CapReached, TokenCap, TokenReservation

__all__ = ["BudgetExceeded", "CallRunner", "CapReached", "Ledger", "SessionSpend", "UnpricedModel"]



def _length_stop(output_tokens: int, max_tokens: int | None) -> str:
    """Why a call ended with finish_reason length: its output cap, or, far below the cap
    (llama.cpp says `length` when its context window fills), the model's context."""
    if max_tokens and output_tokens and output_tokens < max_tokens // 2:
        return (
            f"stopped after {output_tokens:,} output tokens, far below its output cap of "
            f"{max_tokens:,}: the model's context window is probably full"
        )
    return f"stopped at its output cap of {max_tokens:,} tokens" if max_tokens else "stopped at its output cap"

class UnpricedModel(OperationEnding):
    """A model without a price would be called under a budget; nothing was sent."""


@dataclass
class Ledger:
    """Running usage and cost of one operation, split by role."""

    usage: dict[str, Usage] = field(default_factory=dict)
    cost: dict[str, Cost] = field(default_factory=dict)
    routing_savings_usd: Decimal = Decimal(0)
    calls: int = 0
    counted_tokens: int = 0  # what the token cap counts: reports, or bounds (call_bound.py)
    # delegations of one turn may finish on several threads at once
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, role: str, usage: Usage, cost: Cost, savings: Decimal, counted: int | None = None) -> None:
        """Account one finished call; the cap counts it at `counted` tokens (default: its usage)."""
        with self._lock:
            self.counted_tokens += usage.input_tokens + usage.output_tokens if counted is None else counted
            self.usage[role] = self.usage.get(role, Usage()) + usage
            self.cost[role] = self.cost.get(role, Cost()) + cost
            self.routing_savings_usd += savings
            self.calls += 1

    @property
    def total_usage(self) -> Usage:
        with self._lock:
            return sum(self.usage.values(), Usage())

    def total_tokens(self) -> int:
        """Tokens the token cap counts for every call accounted so far (see `add`)."""
        with self._lock:
            return self.counted_tokens

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
    prices: Any = None  # the PriceTable (shipped + user file); default: load_prices()
    budget: OperationBudget | None = None  # default: built from budget_usd and session
    allow_unpriced: bool = False
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _said_untrusted: bool = field(default=False, init=False, repr=False)
    token_counts: ProviderCounts | None = None  # the session's; default: this operation's own
    token_cap: TokenCap = field(init=False, repr=False)

    @property
    def thread_call_id(self) -> str | None:
        """The id of the last call made on this thread (parallel delegations each have one)."""
        return getattr(self._local, "call_id", None)

    def __post_init__(self) -> None:
        if self.pricing is None:
            from ..llm import pricing

            self.pricing = pricing
        if self.tokens is None:
            from ..llm import tokens

            self.tokens = tokens
        if self.prices is None:
            self.prices = self.pricing.load_prices()
        if self.session is None:
            self.session = SessionSpend()
        if self.budget is None:
            self.budget = OperationBudget(self.budget_usd, self.session)
        self.token_cap = TokenCap(self.max_total_tokens, self.ledger.total_tokens, self.token_counts)

    def call(
        self,
        role: Role,
        messages: list[Message],
        *,
        purpose: str,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | None = None,
        reasoning: str | None = None,
        task_id: str | None = None,
        stream_channel: Literal["answer", "plan"] | None = None,
        on_text: Callable[[str], None] | None = None,
        skill: str | None = None,
    ) -> ChatResponse:
        """One model call with budget and cap checks; raises on failure or cancel.

        `tool_choice` ("none", "auto", "required" or a tool's name) steers the call while
        `tools` stays the role's one list, so the provider's prefix cache keeps hitting.
        """
        self.cancel.raise_if_cancelled()
        model = self.models[role]
        # the level sent (minimal becomes low where the model lacks it), stored as sent;
        # the word asked for is stored beside it
        reasoning = reasoning or None
        effort = effort_to_send(model, reasoning)
        level = effort or (normalize_effort(reasoning) if reasoning else None)
        # the one cap function (phase default + reasoning room, Mira.max_output_tokens, the
        # model's limit); under a budget the reservation may lower it to what the budget pays for
        cap = output_token_cap(
            model.model_id, purpose, reasoning_effort=effort, configured=self.max_output_tokens
        )
        prompt_tokens, prompt_bound = self._prompt_size(messages, tools)
        allowance = min(cap, output_allowance(model, level, self.output_reserve_tokens))
        # tokens first, then dollars (always in this order, so a call waiting for one never
        # holds the other while the calls it waits for need it); the token cap reserves the
        # prompt at what the provider counted of it so far plus the bytes of the rest
        # (prompt_bound.py), the budget at its bytes (_prompt_size)
        shape = prompt_shape(model.model_id, messages, tools)
        token_bound = self.token_cap.prompt_bound(shape)
        held = self.token_cap.reserve(token_bound, cap, allowance, self.cancel)
        call_id = new_id("call")  # named first: its team reservation is linked to it at once
        try:
            reservation = self._reserve(model, prompt_tokens, prompt_bound, level, held.max_output_tokens, call_id)
        except BaseException:
            self.token_cap.release(held)
            raise
        sent = False  # whether the request may have reached the model
        replied: Usage | None = None  # the reply's usage, once it is in
        try:
            max_tokens = reservation.max_output_tokens or held.max_output_tokens
            self.last_call_id = call_id
            self._local.call_id = call_id
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
                    reasoning_requested=reasoning,
                    purpose=purpose,
                    skill=skill,
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
                reasoning_requested=reasoning,
                purpose=purpose,
                skill=skill,
                started_at=started,
            )
            call = InFlight(model, reservation, prompt_tokens, level, shape, token_bound, max_tokens)
            refused: list[str] = []  # which cap refused a retry: "tokens" or "budget"
            gate = RETRY_GATE.set(self._retry_gate(model, reservation, held, refused))
            sent = True
            try:
                # tool_choice only when set and the model takes it: a model wrapper that never
                # steers need not know it, and deepseek-reasoner answers one with HTTP 400
                steer = (
                    {"tool_choice": tool_choice}
                    if tool_choice is not None and tools and takes_tool_choice(model.model_id)
                    else {}
                )
                chat = dict(
                    tools=tools, reasoning_effort=effort, on_text=handle_text, cancel=self.cancel,
                    max_tokens=max_tokens,
                )
                try:
                    response = model.chat(messages, **chat, **steer)
                except RequestRejectedError as exc:
                    if not steer or "tool_choice" not in str(exc):
                        raise
                    # a provider the table does not know refuses tool_choice: this call and the
                    # later ones go without it, steered by the prompt alone
                    refuses_tool_choice(model.model_id)
                    self.bus.emit(
                        Notice(
                            operation_id=self.operation_id,
                            level="warning",
                            message=f"{model.model_id} refused tool_choice; calls to it go without it",
                        )
                    )
                    response = model.chat(messages, **chat)
            except RetryRefused as exc:
                self._finish(finished, call, exc.usage, clock, status="error", error=str(exc))
                if refused == ["tokens"]:
                    raise CapReached(str(exc)) from exc
                raise BudgetExceeded(str(exc)) from exc
            except ModelCallCancelled as exc:
                self._finish(finished, call, exc.usage, clock, status="cancelled", error=str(exc))
                raise OperationCancelled(self.cancel.reason) from exc
            except ModelError as exc:
                self._finish(finished, call, exc.usage, clock, status="error", error=str(exc))
                raise
            except BaseException:
                # an unexpected failure: what it cost is unknown, so it keeps its reservations
                self.budget.settle(reservation, reservation.amount)
                self.ledger.add(role, Usage(), Cost(), Decimal(0), counted=held.tokens)
                raise
            finally:
                RETRY_GATE.reset(gate)
            replied = response.usage
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
            cost, charged = self._finish(
                finished,
                call,
                response.usage,
                clock,
                latency_ms=response.latency_ms,
                ttft_ms=response.ttft_ms,
                finish_reason=response.finish_reason,
            )
            self._stop_if_overspent(model, call, cost, charged)
            why = {
                "content_filter": "was stopped by the provider's content filter (finish_reason content_filter)",
                "length": _length_stop(response.usage.output_tokens, max_tokens),
            }.get(response.finish_reason or "")
            if why is not None:
                cut = "; the answer is truncated" if stream_channel == "answer" else ""
                hint = " (Mira.max_output_tokens raises it)" if why.startswith("stopped at its output cap") else ""
                message = f"{role} call ({purpose}) {why}{cut}{hint}"
                self.bus.emit(Notice(operation_id=self.operation_id, level="warning", message=message))
            return response
        finally:
            # any exit (an interrupt from an event sink, a bug after the reply) releases the
            # reservation and the model's first-call mark, or every later call waits for it;
            # a request that may have been sent keeps its worst case, one never sent costs 0
            if not reservation.settled:
                self.budget.settle(reservation, _at_least_stated(reservation.amount if sent else Decimal(0), replied))
            # after the ledger has the call's usage: at no moment are its tokens uncounted
            self.token_cap.release(held)

    # -- budget ----------------------------------------------------------------------------

    def _prompt_size(
        self, messages: list[Message], tools: list[dict[str, Any]] | None
    ) -> tuple[int, int]:
        """(our token estimate, an upper bound no provider's count exceeds) of a prompt.

        The provider's tokenizer may count more than ours, and differently from one call to
        the next: the bound is the prompt's UTF-8 byte count (no byte-level tokenizer makes
        more tokens than bytes), or our estimate times DEFAULT_INPUT_MARGIN if larger. The
        dollar budget reserves this bound; the token cap its own (prompt_bound.py), which
        replaces the bytes of what a provider has already counted by its count.
        """
        prompt_tokens = self.tokens.count_message_tokens(messages)
        if tools:
            prompt_tokens += self.tokens.count_tokens(json.dumps(tools))
        bound = max(
            math.ceil(prompt_tokens * DEFAULT_INPUT_MARGIN),
            self.tokens.count_prompt_bytes(messages, tools),
        )
        return prompt_tokens, bound

    def _reserve(
        self,
        model: ChatModel,
        prompt_tokens: int,
        byte_bound: int,
        effort: str | None,
        cap: int,
        call_id: str | None = None,  # the team ledger links the reservation to the call
    ) -> Reservation:
        """Reserve the call's worst case (input estimate + max_tokens sent) or raise."""
        if not self.budget.limited:
            return Reservation(Decimal(0), cap)
        # the price in force now, as the call will be billed (a dated period may cover now)
        price = self.prices.lookup(model.model_id, utcnow())
        # the fewest output tokens worth sending: the visible reserve plus reasoning room
        allowance = min(cap, output_allowance(model, effort, self.output_reserve_tokens))
        if price is None:
            if not self.allow_unpriced:
                from ..llm.pricing import unpriced_message

                raise UnpricedModel(unpriced_message(model.model_id))
            return Reservation(Decimal(0), cap)  # uncounted, by the user's choice
        if self._states_own_cost(model):
            # its price may change from one call to the next (usage.cost), even when its first
            # reply stated none: no reservation is a sure bound, so its calls go one at a time
            self.session.distrust(model.model_id)
        # the prompt is always reserved at its byte bound (_prompt_size), or at the largest
        # ratio a reply of this model has shown, if a provider ever counted even more

        def input_usd() -> Decimal:
            margin = self.session.input_margin(model.model_id)
            upper = byte_bound if margin is None else max(byte_bound, math.ceil(prompt_tokens * margin))
            return upper * price.input

        per_output = max(price.output, price.reasoning or price.output)

        def describe(what: str, limit: Decimal, spent: Decimal, reserved: Decimal, need: Decimal) -> str:
            in_flight = f" (+{usd(reserved)} reserved by calls in flight)" if reserved else ""
            return (
                f"{what} {usd(limit)} would be exceeded: spent {usd(spent)}{in_flight}, "
                f"next {model.model_id} call estimated at {usd(need)} "
                f"({prompt_tokens:,} input + {allowance:,} output tokens)"
            )

        def learned_terms() -> tuple[Decimal, Decimal]:
            # a provider that charged more than the table (usage.cost) is reserved at that ratio
            margin = self.session.cost_margin(model.model_id)
            return input_usd() * margin, per_output * margin

        reservation = self.budget.reserve(
            input_usd(),
            per_output,
            cap,
            allowance,
            describe,
            cancelled=lambda: self.cancel.cancelled,
            model_id=model.model_id,
            terms_once_learned=learned_terms, call_id=call_id,
        )
        return reservation

    def _states_own_cost(self, model: ChatModel) -> bool:
        """Whether `model`'s provider bills by its own figure (OpenRouter's usage.cost)."""
        entry = self.prices.entry(model.model_id) or {}
        return model.provider == "openrouter" or entry.get("litellm_provider") == "openrouter"

    def _retry_gate(
        self, model: ChatModel, reservation: Reservation, held: TokenReservation, refused: list[str]
    ) -> Callable[[Usage], None]:
        """What the model calls before resending a request whose earlier attempts were billed:
        another attempt reserves its own worst case, in tokens and dollars, or is not sent
        (`refused` then names the cap that said no)."""
        per_attempt = reservation.amount

        def gate(earlier: Usage) -> None:
            try:
                self.token_cap.extend(held)
            except CapReached as exc:
                refused.append("tokens")
                raise RetryRefused(str(exc), usage=earlier) from None
            if not reservation.accounts:
                return
            def describe(what: str, limit: Decimal, spent: Decimal, reserved: Decimal, need: Decimal) -> str:
                in_flight = f" (+{usd(reserved)} reserved by calls in flight)" if reserved else ""
                return (
                    f"{what} {usd(limit)} would be exceeded by a retry: spent {usd(spent)}"
                    f"{in_flight}; the {model.model_id} call reached the model and failed, and "
                    f"another attempt may cost {usd(need)}"
                )

            try:
                self.budget.extend(reservation, per_attempt, describe)
            except BudgetExceeded as exc:
                refused.append("budget")
                raise RetryRefused(str(exc), usage=earlier) from None

        return gate

    def _stop_if_overspent(self, model: ChatModel, call: InFlight, cost: Cost, charged: Decimal) -> None:
        """End the operation when a finished call cost more than the budget had left.

        The reservation covered what the client could foresee; a provider's own figure
        (OpenRouter ``usage.cost``) or a prompt counted far above our estimate is only known
        once the reply is in. The call is recorded at that cost, then nothing more is sent.
        """
        over = self.budget.overspent()
        if over is None:
            return
        name, cap, spent = over
        how = "by the provider's own count" if cost.source == "provider" else "as reported"
        raise BudgetExceeded(
            f"{name} {usd(cap)} exceeded: spent {usd(spent)}; the last {model.model_id} call "
            f"cost {usd(charged)} {how}, {usd(call.reservation.amount)} had been reserved for it"
        )

    # -- accounting --------------------------------------------------------------------------

    def _say_if_untrusted(self, fields: dict[str, Any], usage: Usage) -> None:
        """One notice per operation when a provider's usage object was nonsense or
        contradicted itself."""
        from ..llm.usage import inconsistency, normalize_usage, seen_contradiction, untrusted_reason

        reason = untrusted_reason(usage.raw)
        if reason is not None:
            what = (
                f"an impossible usage ({reason[:80]}): the call is counted from our own "
                "estimate instead, marked estimated"
            )
        elif (reason := inconsistency(usage.raw)) is not None:
            what = (
                f"a usage that contradicts itself ({reason[:120]}): the call is counted at "
                "the dearer consistent reading, marked estimated"
            )
        elif usage.below_seen and (
            reason := seen_contradiction(normalize_usage(usage.raw), usage)
        ) is not None:
            # the client replaced a report below what it saw (see resolve_usage)
            what = (
                f"a usage below what the client saw ({reason[:120]}): the call is counted "
                "from what was seen, marked estimated"
            )
        else:
            return
        if self._said_untrusted:
            return
        self._said_untrusted = True
        self.bus.emit(
            Notice(
                operation_id=self.operation_id,
                level="warning",
                message=f"{fields['provider']}:{fields['model']} reported {what}, and the "
                "provider's object is kept with it (raw_usage_json)",
            )
        )

    def _settle_unpriceable(self, fields: dict[str, Any], call: InFlight, usage: Usage, clock: float) -> None:
        """Record a call whose pricing failed (a bug or a bad price) before the error goes up.

        It may have been billed: the budget is charged its reservation, or the provider's
        own figure if that is larger, the ledger and the log keep what the provider said it
        cost, and the model's calls go one at a time from now on.
        """
        model_id = f"{fields['provider']}:{fields['model']}"
        charged = _at_least_stated(call.reservation.amount, usage)
        cost = Cost(
            adjustment_usd=_stated_cost(usage) or Decimal(0),
            source="provider" if usage.provider_cost_usd is not None else "table",
            upper_usd=charged,
        )
        self.session.distrust(model_id)
        self.budget.settle(call.reservation, charged)
        self.ledger.add(fields["role"], usage, cost, Decimal(0), cap_tokens(call, usage))
        self.bus.emit(
            LLMCallFinished(
                **fields,
                latency_ms=(time.perf_counter() - clock) * 1000,
                usage=usage,
                cost=cost,
                status="error",
                error="the call could not be priced; it is charged its reservation",
            )
        )

    def _finish(
        self,
        fields: dict[str, Any],
        call: InFlight,
        usage: Usage,
        clock: float,
        *,
        status: Literal["ok", "error", "cancelled"] = "ok",
        error: str | None = None,
        latency_ms: float | None = None,
        ttft_ms: float | None = None,
        finish_reason: str | None = None,
    ) -> tuple[Cost, Decimal]:
        """Account the call (cost, budget, ledger, event); returns its cost and what the
        budget was charged."""
        model_id = f"{fields['provider']}:{fields['model']}"
        at = fields["started_at"]
        usage = bounded(call, usage, status, self.output_reserve_tokens)
        self._say_if_untrusted(fields, usage)
        if reports_no_usage(usage, status) and self.token_cap.counts.first_unreported(model_id):
            self.bus.emit(Notice(operation_id=self.operation_id, level="warning", message=f"{model_id} "
                                 "reports no token usage: the token cap counts each of its calls at its "
                                 "worst case (prompt bound + max_tokens)"))  # fmt: skip
        try:
            cost = self.pricing.cost_of(usage, model_id, prices=self.prices, at=at)
        except Exception:
            self._settle_unpriceable(fields, call, usage, clock)
            raise
        charged = cost.total_usd
        if usage.bounded and cost.priced:
            # budgets charge the upper bound; the reservation (input margin included) if larger
            charged = max(cost.most_usd, call.reservation.amount)
            cost = cost.model_copy(update={"upper_usd": charged})
        # learn how the provider counts before settling: a call waiting for this first reply
        # wakes on the settle and must already see what it taught
        if cost.source == "provider" and usage.provider_cost_usd is not None:
            table = cost.input_usd + cost.cached_input_usd + cost.output_usd
            self.session.observe_cost(model_id, usage.provider_cost_usd, table)
        if usage.provider_cost_usd is not None or (
            call.reservation.accounts and charged > call.reservation.amount
        ):
            # billed by the provider's own figure, or beyond what was reserved: no
            # reservation is a sure bound for this model any more, its calls go one at a time
            self.session.distrust(model_id)
        if usage.source == "reported" and call.prompt_tokens > 0 and usage.input_tokens > 0:
            self.session.observe_input(model_id, usage.input_tokens, call.prompt_tokens)
            self.token_cap.counts.learn(call.shape, usage.input_tokens)
        elif status == "ok":
            self.session.observe_reply(model_id)  # it replied but counted nothing we can use
        self.budget.settle(call.reservation, charged)
        savings = Decimal(0)
        equivalent = None
        if fields["role"] == "executor":
            orchestrator = self.models["orchestrator"]
            other = self.pricing.cost_of(usage, orchestrator.model_id, prices=self.prices, at=at)
            if cost.priced and other.priced:  # an unpriced side makes any "saving" meaningless
                equivalent = other.total_usd
                savings = equivalent - cost.total_usd
        self.ledger.add(fields["role"], usage, cost, savings, cap_tokens(call, usage))
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
        return cost, charged


def _stated_cost(usage: Usage | None) -> Decimal | None:
    """What the provider said the call cost (OpenRouter's usage.cost), if a finite amount."""
    known = None if usage is None else usage.provider_cost_usd
    if known is None or not Decimal(known).is_finite():
        return None
    return Decimal(known)


def _at_least_stated(amount: Decimal, usage: Usage | None) -> Decimal:
    """`amount`, or what the provider said the call cost if that is more: a call whose cost
    the client could not work out is charged the larger."""
    stated = _stated_cost(usage)
    return amount if stated is None else max(amount, stated)


def effort_to_send(model: ChatModel, requested: str | None) -> str | None:
    """The reasoning level sent to `model` for the word `requested` (None: none is sent)."""
    capabilities = getattr(model, "capabilities", None)
    if capabilities is not None:
        return capabilities.effort_to_send(requested)
    if not requested or not model.supports_reasoning_effort():
        return None
    return normalize_effort(requested)
