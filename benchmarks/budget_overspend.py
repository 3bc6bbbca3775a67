"""Worst overspend ratio (what the provider would bill / the budget) across eight scenarios.

    .venv/bin/python benchmarks/budget_overspend.py                 # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/budget_overspend.py  # baseline

Every scenario runs the real engine through the real openai SDK against the scripted model.
What the provider would bill is computed on the server side, independently of the code under
test: each request's reported prompt and completion at gpt-5's list price ($1.25 / $10 per
million), and for a request that was cancelled mid-stream, its prompt plus the whole
max_tokens it was sent with (a reasoning model may have thought that long before the client
closed the stream; 128,000 when no max_tokens was sent). Target: <= 1.00 everywhere a
budget is set.

Scenarios:
  concurrent   4 operations at once, session budget $0.50, a model that always uses its
               whole output allowance
  plan+run     --plan-only with --budget $0.20, then %mira run, same greedy model
  cancel       operations on a reasoning model cancelled mid-stream, session budget $0.50,
               until the budget refuses (at most 12)
  tokenizer    the provider counts 30% more prompt tokens than tiktoken; 4 operations at once
               on large prompts, session budget $0.30, greedy model
  tokenizer-Nx the same with a provider counting 2x, 5x and 20x tiktoken's prompt tokens
  router-cost  an OpenRouter-style provider whose usage.cost is 4x the table price (billed
               as reported); 4 operations at once, session budget $0.50, greedy model on
               anthropic/claude-sonnet-4.5 ($3 / $15 per million)
  retries      every other request is billed in full and then cut before [DONE], so the
               client retries it; 4 operations at once, session budget $0.50, greedy model
  shift-tokens-Nx  the provider counts prompts like tiktoken in its first reply, then N times
               more (2.5x, 4x, 20x): what the first reply taught is wrong for the later
               calls; 4 large-prompt operations at once, session budget $0.30. This prompt
               has 2.94 UTF-8 bytes per tiktoken token, so 4x and 20x count more tokens
               than the request has bytes, which no byte-level tokenizer does
  shift-cost-Nx    router-cost whose usage.cost is the table price in its first reply, then
               N times it (4x, 20x); 4 operations at once, session budget $0.50

The bound guaranteed (README, "Budgets"): spend <= budget whenever each call is billed at
most its reservation; a call billed more than its reservation (a price or count no client
can foresee) is the last one any operation of the session sends at the learned terms, so
the overspend is at most the calls in flight at that moment (one, for a provider stating
its own cost: such a model's calls go one at a time). Printed per scenario: the ratio to
the budget, and the spend beyond the budget in units of the dearest single request.

    .venv/bin/python benchmarks/budget_overspend.py shift-tokens-4x shift-cost-20x  # some
"""

from __future__ import annotations

import sys
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

import mira_jupyter.testing as mt

try:
    from mira_jupyter.core.cancel import CancelToken
except ImportError:  # a checkout from before the core/ move, for the baseline
    from mira_jupyter.engine.cancel import CancelToken
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.llm.tokens import count_message_tokens

IN, OUT = Decimal("1.25e-6"), Decimal("1e-5")  # gpt-5 list price per token
NO_LIMIT = 128_000  # gpt-5's own output limit, when the client sends none


class Bill:
    """What the provider would charge, request by request (thread-safe)."""

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.requests = 0
        self.largest = Decimal(0)  # the dearest single request
        self._lock = threading.Lock()

    def add(self, prompt: int, output: int) -> None:
        self.add_usd(prompt * IN + output * OUT)

    def add_usd(self, amount: Decimal) -> None:
        with self._lock:
            self.total += amount
            self.requests += 1
            self.largest = max(self.largest, amount)


def limit_of(record: mt.RecordedRequest) -> int | None:
    return record.body.get("max_completion_tokens", record.body.get("max_tokens"))


def greedy(bill: Bill, prompt_factor: float = 1.0):
    def respond(record: mt.RecordedRequest) -> dict:
        prompt = int(count_message_tokens(record.messages, record.body.get("tools")) * prompt_factor)
        output = limit_of(record) or 4_096
        bill.add(prompt, output)
        return {"text": "done", "usage": {"input": prompt, "output": output}}

    return respond


def cancelled_reasoning(bill: Bill):
    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        bill.add(prompt, limit_of(record) or NO_LIMIT)
        return {"text": "let me think " * 40, "fault": "stall", "stall_seconds": 30, "after_chunks": 2}

    return respond


def engine(root: Path, responder, budget: str | None = None) -> Engine:
    mt.use_script(mt.Script(responder=responder))
    settings = EngineSettings(
        project_root=root,
        orchestrator_model="scripted:gpt-5",
        executor_model="scripted:gpt-5",
        budget_usd=Decimal(budget) if budget else None,
    )
    return Engine(settings, EventBus())


def at_once(eng: Engine, requests: list[str], options: RunOptions) -> None:
    start = threading.Barrier(len(requests))

    def work(request: str) -> None:
        start.wait()
        eng.run(request, options)

    threads = [threading.Thread(target=work, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)


def concurrent(root: Path) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget = Bill(), Decimal("0.50")
    eng = engine(root, greedy(bill), str(budget))
    at_once(eng, [f"question {i}?" for i in range(4)], RunOptions(mode="planned", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


def plan_and_run(root: Path) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget = Bill(), Decimal("0.20")
    eng = engine(root, greedy(bill))
    planned = eng.run("refactor the loader", RunOptions(mode="planned", plan_only=True, reasoning="low", budget_usd=budget))
    eng.resume(planned.id)
    return bill.total, budget, bill.requests, bill.largest


def cancel(root: Path) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget = Bill(), Decimal("0.50")
    eng = engine(root, cancelled_reasoning(bill), str(budget))
    for _ in range(12):
        token = CancelToken()
        threading.Timer(0.3, token.cancel).start()
        op = eng.run("what is this?", RunOptions(mode="simple", reasoning="high"), cancel=token)
        if op.status == "budget_exceeded":
            break
    return bill.total, budget, bill.requests, bill.largest


def tokenizer(root: Path, factor: float = 1.3) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget = Bill(), Decimal("0.30")
    eng = engine(root, greedy(bill, prompt_factor=factor), str(budget))
    big = "Explain this code:\n" + "def f(x):\n    return [i * x for i in range(10)]\n" * 400
    at_once(eng, [f"{big}\n# variant {i}" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


ROUTER_IN, ROUTER_OUT = Decimal("3e-6"), Decimal("1.5e-5")  # claude-sonnet-4.5 in the table


def router_cost(root: Path, markup: int = 4) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget = Bill(), Decimal("0.50")

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        output = limit_of(record) or 4_096
        cost = (prompt * ROUTER_IN + output * ROUTER_OUT) * markup
        bill.add_usd(Decimal(str(float(cost))))  # what the client is told, exactly
        usage = {"prompt_tokens": prompt, "completion_tokens": output, "cost": float(cost)}
        return {"text": "done", "usage": usage}

    mt.use_script(mt.Script(responder=respond))
    settings = EngineSettings(
        project_root=root,
        orchestrator_model="scripted:anthropic/claude-sonnet-4.5",
        executor_model="scripted:anthropic/claude-sonnet-4.5",
        budget_usd=budget,
    )
    eng = Engine(settings, EventBus())
    at_once(eng, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


class Shifting:
    """A prompt-count or price factor that is 1 for the first request, then `factor`."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.seen = 0
        self._lock = threading.Lock()

    def next(self) -> float:
        with self._lock:
            self.seen += 1
            return 1.0 if self.seen == 1 else self.factor


def shift_tokens(root: Path, factor: float) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget, shift = Bill(), Decimal("0.30"), Shifting(factor)

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = int(count_message_tokens(record.messages, record.body.get("tools")) * shift.next())
        output = limit_of(record) or 4_096
        bill.add(prompt, output)
        return {"text": "done", "usage": {"input": prompt, "output": output}}

    eng = engine(root, respond, str(budget))
    big = "Explain this code:\n" + "def f(x):\n    return [i * x for i in range(10)]\n" * 400
    at_once(eng, [f"{big}\n# variant {i}" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


def shift_cost(root: Path, factor: int, first_states_cost: bool = True) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget, shift = Bill(), Decimal("0.50"), Shifting(factor)

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        output = limit_of(record) or 4_096
        times = shift.next()
        cost = (prompt * ROUTER_IN + output * ROUTER_OUT) * Decimal(str(times))
        bill.add_usd(Decimal(str(float(cost))))
        usage = {"prompt_tokens": prompt, "completion_tokens": output, "cost": float(cost)}
        if times == 1 and not first_states_cost:
            del usage["cost"]  # late-cost: the first reply states no cost at all
        return {"text": "done", "usage": usage}

    mt.use_script(mt.Script(responder=respond))
    settings = EngineSettings(
        project_root=root,
        orchestrator_model="scripted:anthropic/claude-sonnet-4.5",
        executor_model="scripted:anthropic/claude-sonnet-4.5",
        budget_usd=budget,
    )
    eng = Engine(settings, EventBus())
    at_once(eng, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


def retries(root: Path) -> tuple[Decimal, Decimal, int, Decimal]:
    bill, budget, lock, seen = Bill(), Decimal("0.50"), threading.Lock(), [0]

    def respond(record: mt.RecordedRequest) -> dict:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        output = limit_of(record) or 4_096
        bill.add(prompt, output)
        usage = {"prompt_tokens": prompt, "completion_tokens": output}
        with lock:
            seen[0] += 1
            cut = seen[0] % 2 == 1
        if cut:  # billed in full, then the connection drops before [DONE]: retried
            return {"text": "", "usage": usage, "fault": "cut", "after_chunks": 3}
        return {"text": "done", "usage": usage}

    eng = engine(root, respond, str(budget))
    at_once(eng, [f"question {i}?" for i in range(4)], RunOptions(mode="simple", reasoning="low"))
    return bill.total, budget, bill.requests, bill.largest


SCENARIOS = {
    "concurrent": concurrent,
    "plan+run": plan_and_run,
    "cancel": cancel,
    "tokenizer": tokenizer,
    "tokenizer-2x": lambda root: tokenizer(root, 2.0),
    "tokenizer-5x": lambda root: tokenizer(root, 5.0),
    "tokenizer-20x": lambda root: tokenizer(root, 20.0),
    "router-cost": router_cost,
    "retries": retries,
    "shift-tokens-2.5x": lambda root: shift_tokens(root, 2.5),
    "shift-tokens-4x": lambda root: shift_tokens(root, 4.0),
    "shift-tokens-20x": lambda root: shift_tokens(root, 20.0),
    "shift-cost-4x": lambda root: shift_cost(root, 4),
    "shift-cost-20x": lambda root: shift_cost(root, 20),
    "late-cost-4x": lambda root: shift_cost(root, 4, first_states_cost=False),
    "late-cost-20x": lambda root: shift_cost(root, 20, first_states_cost=False),
}


def main() -> int:
    import logging

    logging.disable(logging.WARNING)
    worst = Decimal(0)
    print(
        f"{'scenario':<17} {'billed':>10} {'budget':>8} {'requests':>8} {'ratio':>7} "
        f"{'beyond':>7}  target: ratio <= 1.00 (beyond: overspend / dearest request)"
    )
    chosen = sys.argv[1:] or list(SCENARIOS)
    for name in chosen:
        scenario = SCENARIOS[name]
        with tempfile.TemporaryDirectory() as tmp:
            billed, budget, requests, largest = scenario(Path(tmp))
        ratio = billed / budget
        worst = max(worst, ratio)
        beyond = max(billed - budget, Decimal(0)) / largest if largest else Decimal(0)
        print(f"{name:<17} ${billed:>9.4f} ${budget:>7.2f} {requests:>8} {ratio:>7.3f} {beyond:>7.2f}")
    print(f"worst overspend ratio: {worst:.3f} (target <= 1.000)")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
