"""Helpers for the money tests: sessions on a real DuckDB file, greedy scripted models."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.llm.tokens import count_message_tokens
from mira_jupyter.session import Session
from mira_jupyter.store import analytics


def sent_limit(record: mt.RecordedRequest) -> int | None:
    """The max_tokens the client sent (either spelling)."""
    return record.body.get("max_completion_tokens", record.body.get("max_tokens"))


def greedy(prompt_factor: float = 1.0, text: str = "done") -> Any:
    """A responder that always uses its whole output allowance (max_tokens, or 4,096 when
    none was sent), and counts the prompt `prompt_factor` times what our tokenizer does."""

    def respond(record: mt.RecordedRequest) -> dict[str, Any]:
        prompt = count_message_tokens(record.messages, record.body.get("tools"))
        return {
            "text": text,
            "usage": {"input": int(prompt * prompt_factor), "output": sent_limit(record) or 4_096},
        }

    return respond


def session_for(root: Path, orchestrator: str, executor: str = "scripted:deepseek-chat", **traits: Any) -> Session:
    """A Session on `root` logging to its default DuckDB file, text view."""
    config = Mira()
    config.project_root = str(root)
    config.orchestrator_model = orchestrator
    config.executor_model = executor
    config.view = "text"
    for name, value in traits.items():
        setattr(config, name, value)
    return Session(config)


def logged_calls(session: Session) -> list[dict[str, Any]]:
    """Every llm_calls row of the session's log, as dicts."""
    session.flush()
    frame = analytics.query(session.database, "SELECT * FROM llm_calls ORDER BY started_at, id")
    return frame.to_dict("records")


def logged_spend(session: Session) -> Decimal:
    """What the log says was spent: the upper bound of each call where it has one."""
    session.flush()
    frame = analytics.query(
        session.database,
        "SELECT coalesce(sum(coalesce(cost_upper_usd, cost_total_usd)), 0)::VARCHAR AS s FROM llm_calls",
    )
    return Decimal(frame.iloc[0]["s"])


def run_concurrently(session: Session, requests: list[str], options: Any = None) -> list[Any]:
    """Run the requests on threads at once (as several cells of one kernel would)."""
    results: list[Any] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def work(i: int) -> None:
        start.wait()
        results[i] = session.run(requests[i], options)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results
