"""``%mira history`` by default: id, started (local, to the second), status, mode, request, cost, duration."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from mira_jupyter.notebook.tables import HISTORY_COLUMNS, LogFrame, readable_history


@pytest.fixture
def kolkata(monkeypatch):
    """The machine's local time zone is UTC+05:30 for the test."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _full_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "operation_id": ["op_b", "op_a"],
            "started_at": pd.to_datetime(
                [datetime(2026, 12, 1, 15, 32, 3, 987654, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, 59, 1, tzinfo=UTC)]
            ),
            "status": ["completed", "running"],
            "mode": ["planned", "simple"],
            "request": ["Find where the CSV loader drops rows\nwith empty dates and fix it; " + "x" * 100, "hi"],
            "cost_usd": [Decimal("0.0135"), None],
            "cost_upper_usd": [Decimal("0.0200"), None],
            "unpriced_calls": [0, 1],
            "duration_s": [4.857631, None],
            "llm_calls": [13, 1],
        }
    )


def test_the_default_columns_are_readable(kolkata):
    shown = readable_history(_full_history())
    assert isinstance(shown, LogFrame)
    assert list(shown.columns) == list(HISTORY_COLUMNS)
    first, second = shown.iloc[0], shown.iloc[1]
    # local time (UTC+05:30), whole seconds: no microseconds, no offset to read
    assert first["started"] == pd.Timestamp("2026-12-01 21:02:03")
    assert second["started"] == pd.Timestamp("2026-12-01 05:29:59")
    assert "15:32:03.987654" not in shown.to_string() and "+00:00" not in shown.to_string()
    assert len(first["request"]) == 80 and first["request"].startswith("Find where the CSV loader drops rows with")
    assert first["cost"] == "$0.0135 (at most $0.0200)"
    assert second["cost"] == "unpriced"
    assert (first["duration"], second["duration"]) == ("4.9 s", "")


def test_an_empty_history_keeps_its_columns():
    shown = readable_history(_full_history().iloc[0:0])
    assert list(shown.columns) == list(HISTORY_COLUMNS) and len(shown) == 0
