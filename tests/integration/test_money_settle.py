"""Issue 12: a reservation is released on any exit from a call, and no call waits for ever.

A reservation left behind (an interrupt from an event sink, a failure after the reply)
used to keep the model's "first call in flight" mark, and every later call of that model
in the kernel waited without end.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from money_helpers import greedy, logged_calls, session_for

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken, OperationCancelled
from mira_jupyter.engine.budget import BudgetExceeded, OperationBudget, SessionSpend
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.llm import pricing

D = Decimal
ROUTER = "anthropic/claude-sonnet-4.5"  # priced in the table, and OpenRouter reports usage.cost


@pytest.fixture(autouse=True)
def _shipped_prices_only(monkeypatch):
    monkeypatch.delenv("MIRA_PRICES_FILE", raising=False)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    return tmp_path


def _guarded(seconds: float = 20.0) -> CancelToken:
    """A cancel token that fires after `seconds`, so a hang fails the test instead of CI."""
    token = CancelToken()
    timer = threading.Timer(seconds, token.cancel)
    timer.daemon = True
    timer.start()
    return token


def test_an_interrupt_from_an_event_sink_releases_the_reservation(project):
    mt.use_script(mt.Script(responder=greedy()))
    session = session_for(project, "scripted:gpt-5", executor="scripted:gpt-5", budget_usd=0.5)
    fired = []

    def sink(event):
        if event.type == "LLMCallStarted" and not fired:
            fired.append(True)
            raise KeyboardInterrupt  # the kernel's Interrupt button, mid-delivery

    session.engine.bus.subscribe(sink)
    with pytest.raises(KeyboardInterrupt):
        session.run("first?", RunOptions(mode="simple", reasoning="low"))
    spend = session.engine.spend
    assert spend.reserved == 0 and not spend._probing
    assert spend.spent == 0, "the request was never sent: it costs nothing"
    again = session.run("second?", RunOptions(mode="simple", reasoning="low"), cancel=_guarded())
    assert again.status == "completed", again.error


def test_a_failure_after_a_billed_reply_keeps_the_provider_cost_and_frees_the_model(project, monkeypatch):
    reply = {"text": "an answer", "usage": {"prompt_tokens": 1_000, "completion_tokens": 100, "cost": 0.3}}
    mt.use_script(mt.Script({ROUTER: [reply, reply]}))
    session = session_for(project, f"scripted:{ROUTER}", budget_usd=5)
    real = pricing.cost_of

    def broken(*args, **kwargs):
        raise ValueError("a price must be a number, got 'garbage'")

    monkeypatch.setattr(pricing, "cost_of", broken)
    op = session.run("first?", RunOptions(mode="simple"))
    assert op.status == "failed" and "garbage" in op.error
    spend = session.engine.spend
    assert spend.reserved == 0 and not spend._probing
    assert spend.spent >= D("0.3"), "the provider said it billed $0.30: the budget counts it"
    row = logged_calls(session)[-1]
    assert row["status"] == "error" and D(str(row["provider_cost_usd"])) == D("0.3")
    monkeypatch.setattr(pricing, "cost_of", real)
    again = session.run("second?", RunOptions(mode="simple"), cancel=_guarded())
    assert again.status == "completed", again.error


def test_an_interrupt_while_pricing_a_billed_reply_charges_what_the_provider_said(project, monkeypatch):
    reply = {"text": "an answer", "usage": {"prompt_tokens": 1_000, "completion_tokens": 100, "cost": 0.3}}
    mt.use_script(mt.Script({ROUTER: [reply, reply]}))
    session = session_for(project, f"scripted:{ROUTER}", budget_usd=5)
    real = pricing.cost_of

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pricing, "cost_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.run("first?", RunOptions(mode="simple"))
    spend = session.engine.spend
    assert spend.reserved == 0 and not spend._probing
    assert spend.spent >= D("0.3"), "the reply said it cost $0.30: the budget counts it"
    monkeypatch.setattr(pricing, "cost_of", real)
    again = session.run("second?", RunOptions(mode="simple"), cancel=_guarded())
    assert again.status == "completed", again.error


def _describe(*_args) -> str:
    return "no room"


def test_waiting_for_a_first_call_that_never_settles_is_bounded():
    session = SessionSpend(D(1))
    session._probing.add("m")  # a first call in flight that will never settle
    budget = OperationBudget(D(1), session)
    outcome: list[BaseException] = []
    give_up = threading.Event()
    threading.Timer(20, give_up.set).start()  # on a hang, end the test instead of CI

    def reserve() -> None:
        try:
            budget.reserve(D("0.01"), D(0), 10, 1, _describe, cancelled=give_up.is_set, model_id="m", turn_seconds=0.5)
        except BaseException as exc:  # noqa: BLE001 - the test reports what came out
            outcome.append(exc)

    worker = threading.Thread(target=reserve)
    worker.start()
    worker.join(30)
    give_up.set()
    assert outcome and isinstance(outcome[0], BudgetExceeded), outcome
    assert "in flight" in str(outcome[0])


def test_waiting_for_a_first_call_honours_the_cancel_token():
    session = SessionSpend(D(1))
    session._probing.add("m")
    budget = OperationBudget(D(1), session)
    with pytest.raises(OperationCancelled):
        budget.reserve(D("0.01"), D(0), 10, 1, _describe, cancelled=lambda: True, model_id="m")
